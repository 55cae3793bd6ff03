import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * `relsign check` and `relsign release` on hostile configs end quickly with
 * one line naming the config path. Time bounds are loose (seconds, where the
 * unbounded versions took minutes or hung); they include Node's start-up.
 */
const LOOSE_MS = 8000;

let repo: TempRepo;
beforeAll(async () => {
  repo = await TempRepo.create({ 'README.md': '# demo\n' });
  await repo.commit('initial');
});
afterAll(async () => {
  await repo?.remove();
});

async function check(config: string, extra: string[] = []) {
  await repo.write({ 'hostile.yaml': config });
  const t0 = performance.now();
  const r = await runCli(['check', '--config', 'hostile.yaml', ...extra], { cwd: repo.dir });
  return { ...r, ms: performance.now() - t0 };
}

describe('relsign check on hostile templates', () => {
  it('200,000 actions: the config is refused as too large before it is parsed (templates over 1 MiB are refused too: see test/template/limits.test.ts)', async () => {
    const r = await check(`project_name: demo\nsnapshot:\n  version_template: "${'{{ .Version }}'.repeat(200_000)}"\n`);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^relsign: hostile\.yaml: too large for a config file \(\d+ KiB; at most 256 KiB\)$/);
    expect(r.ms).toBeLessThan(LOOSE_MS);
  });

  it('18,000 actions (a config just under its 256 KiB limit): checked, valid', async () => {
    const r = await check(`project_name: demo\nsnapshot:\n  version_template: "${'{{ .Version }}'.repeat(18_000)}"\n`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('config is valid');
    expect(r.ms).toBeLessThan(LOOSE_MS);
  });

  it('5,000 nested parentheses: a nesting error, not a stack overflow', async () => {
    const r = await check(`project_name: demo\nrelease:\n  footer: "{{ ${'('.repeat(5000)}1${')'.repeat(5000)} }}"\n`);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^relsign: hostile\.yaml:3:\d+: release\.footer: bad template: template nesting is deeper than 100 levels$/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('error lines stay short and are formatted in linear time', () => {
  it('a --config path of 80,000 spaces gives one bounded line quickly', async () => {
    const t0 = performance.now();
    const r = await runCli(['check', '--config', `${' '.repeat(80_000)}x`], { cwd: repo.dir });
    expect(performance.now() - t0).toBeLessThan(LOOSE_MS);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(4100);
    expect(lines[0]).toMatch(/^relsign: .*… \(\d+ more characters\)$/);
  });
});

describe('relsign release on a hostile template', () => {
  it('{{ range 1000000000 }} in a setting fails at once, naming it', async () => {
    await repo.write({ 'range.yaml': 'project_name: demo\nsnapshot:\n  version_template: "{{ range 1000000000 }}x{{ end }}"\n' });
    const t0 = performance.now();
    const r = await runCli(['release', '--snapshot', '--clean', '--config', 'range.yaml'], { cwd: repo.dir });
    expect(performance.now() - t0).toBeLessThan(LOOSE_MS);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toBe(
      'relsign: template snapshot.version_template:1:3: range over 1,000,000,000 items exceeds the limit of 10,000',
    );
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
