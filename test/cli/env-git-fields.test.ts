import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

describe('env: templates that read git fields', () => {
  it('see the real tag and commit date, never placeholders; earlier entries still render before git', async () => {
    const config = `project_name: demo
env:
  - PLAIN=static-{{ .Env.HOME_MARK }}
  - NEXT={{ .Tag | incpatch }}
  - WHEN={{ .CommitDate }}
  - BOTH={{ .Env.PLAIN }}/{{ .Env.NEXT }}
before:
  hooks:
    - cmd: 'echo "$PLAIN $NEXT $WHEN $BOTH" > env-seen.txt'
      shell: true
`;
    const r = await TempRepo.create({ 'relsign.config.yaml': config, '.gitignore': 'dist/\nenv-seen.txt\n' });
    repos.push(r);
    await r.commit('initial');
    await r.tag('v1.4.2');
    const res = await runCli(['release', '--skip', 'publish'], { cwd: r.dir, env: { HOME_MARK: 'x' } });
    expect(res.code, res.stderr).toBe(0);
    const seen = (await readFile(join(r.dir, 'env-seen.txt'), 'utf8')).trim();
    expect(seen).toBe('static-x v1.4.3 2024-01-02T03:04:05Z static-x/v1.4.3');
  }, 60_000);
});
