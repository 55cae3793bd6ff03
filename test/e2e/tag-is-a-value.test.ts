import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * A tag is data: template text inside it (and so inside every artifact name
 * built from it) is never evaluated, in particular not when `${artifact}` is
 * substituted into a signer's signature template.
 */
const TAG = 'v1.2.4-{{.Env.GITHUB_TOKEN}}';
const TOKEN = 'ghp_tokenvalue0123456789';

let repo: TempRepo;
beforeAll(async () => {
  repo = await TempRepo.create({
    'relsign.config.yaml': [
      'project_name: demo',
      'source:',
      '  enabled: true',
      'signs:',
      '  - signer: builtin',
      '    key: env://COSIGN_PRIVATE_KEY',
      '    artifacts: all',
      '  - id: cmd',
      '    cmd: sh',
      '    args: ["-c", "cat > ${signature}"]',
      '    stdin: "$<artifactName> {{ .Version }}"',
      '    signature: "${artifact}.cmd.sig"',
      '    artifacts: checksum',
      '',
    ].join('\n'),
    'README.md': '# demo\n',
  });
  await repo.commit('initial');
  await repo.tag(TAG);
});
afterAll(async () => {
  await repo?.remove();
});

describe('template text in a tag', () => {
  it('stays literal in artifact and signature names, signer arguments and outputs; the token is never read', async () => {
    const r = await runCli(['release', '--snapshot', '--clean'], {
      cwd: repo.dir,
      env: { GITHUB_TOKEN: TOKEN, COSIGN_PRIVATE_KEY: undefined, RELSIGN_CURRENT_TAG: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    const dist = join(repo.dir, 'dist');
    const files = await readdir(dist);
    const version = `1.2.4-{{.Env.GITHUB_TOKEN}}-SNAPSHOT-`;
    const archive = files.find((f) => f.startsWith(`demo-${version}`) && f.endsWith('.tar.gz'));
    expect(archive, files.join(', ')).toBeDefined();
    expect(files).toContain(`${archive}.sig`);
    const sums = files.find((f) => f.endsWith('_checksums.txt'))!;
    expect(sums.startsWith(`demo_${version}`)).toBe(true);
    expect(files).toContain(`${sums}.sig`);
    expect(files).toContain(`${sums}.cmd.sig`);
    // the cmd signer's stdin got the artifact name and .Version as values
    const written = await readFile(join(dist, `${sums}.cmd.sig`), 'utf8');
    expect(written).toBe(`${sums} ${sums.slice('demo_'.length, -'_checksums.txt'.length)}`);
    const artifacts = await readFile(join(dist, 'artifacts.json'), 'utf8');
    for (const text of [files.join('\n'), artifacts, written, r.stdout, r.stderr]) expect(text).not.toContain(TOKEN);
  });
});
