import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/** Bad split flags fail in one line, exit 2, before anything is built. */
let repo: TempRepo;
const CONFIG = 'release.config.example.yaml';
beforeAll(async () => {
  repo = await TempRepo.create({ '.gitignore': 'dist/\n' });
  await cp(join(REPO_ROOT, CONFIG), join(repo.dir, CONFIG));
  await cp(join(REPO_ROOT, 'fixtures/example'), join(repo.dir, 'fixtures/example'), { recursive: true });
  await repo.commit('feat: example');
  await repo.tag('v0.1.0');
});
afterAll(async () => {
  await repo?.remove();
});

describe('release --split flags', () => {
  const cases: Array<[string[], Record<string, string | undefined>, string]> = [
    [['--targets', 'linux_amd64'], {}, 'relsign: --targets needs --split'],
    [['--split', '--targets', 'linux_s390x'], {}, 'relsign: --targets: linux_s390x is not configured in builds[].targets (configured: darwin_arm64, linux_amd64, linux_arm64, windows_amd64)'],
    [['--split', '--split-by', 'arch'], {}, 'relsign: --split-by: "arch" is not allowed; valid options are os, target'],
    [['--split'], { RELSIGN_SPLIT_BY: 'bogus' }, 'relsign: RELSIGN_SPLIT_BY: "bogus" is not allowed; valid options are os, target'],
    [['--split', '--split-by', 'target'], {}, 'relsign: --split-by target needs --shard N/M (e.g. --shard 2/5)'],
    [['--split', '--split-by', 'target', '--shard', '6/5'], {}, 'relsign: --shard: expected N/M with 1 ≤ N ≤ M (e.g. 2/5), got "6/5"'],
    [['--split', '--targets', 'linux_amd64', '--split-id', '../escape'], {}, 'relsign: --split-id: "../escape" is not a usable folder name (letters, digits, . _ -; at most 64)'],
    [['--split', '--draft'], {}, 'relsign: --draft has no effect with --split (a split publishes nothing); pass it to `relsign continue --merge`'],
  ];
  for (const [args, env, message] of cases) {
    it(`${args.join(' ')} ${Object.keys(env).join(' ')}`.trim(), async () => {
      const r = await runCli(['release', '--config', CONFIG, ...args], { cwd: repo.dir, env: { RELSIGN_SPLIT_BY: undefined, ...env } });
      expect(r.stderr.trim().split('\n').pop()).toBe(message);
      expect(r.code).toBe(2);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(await readdir(repo.dir)).not.toContain('dist');
    });
  }

  it('continue without --merge is a usage error', async () => {
    const r = await runCli(['continue', '--config', CONFIG], { cwd: repo.dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('relsign: continue: say what to continue; the only mode is --merge');
  });

  it('continue --merge with no parts says what to do', async () => {
    const r = await runCli(['continue', '--merge', '--snapshot', '--config', CONFIG], { cwd: repo.dir, env: { GITHUB_TOKEN: undefined } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^relsign: continue --merge: (dist\/ does not exist|no split parts)/);
  });

  it('--split-by target --shard 1/3 builds the first share of the sorted targets into dist/shard-1-of-3/', async () => {
    const r = await runCli(['release', '--config', CONFIG, '--split', '--split-by', 'target', '--shard', '1/3'], { cwd: repo.dir, env: { RELSIGN_SPLIT_BY: undefined, GITHUB_TOKEN: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('part shard-1-of-3: darwin_arm64, windows_amd64');
    expect((await readdir(join(repo.dir, 'dist/shard-1-of-3'))).sort()).toEqual([
      'context.json',
      'hello_0.1.0_darwin_arm64.tar.gz',
      'hello_0.1.0_windows_amd64.zip',
      'hello_darwin_arm64',
      'hello_windows_amd64',
    ]);
  });
});
