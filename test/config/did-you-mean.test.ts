import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

async function errorsOf(yaml: string): Promise<string[]> {
  const p = await TempRepo.plain({ 'relsign.config.yaml': yaml });
  repos.push(p);
  try {
    await loadConfig({ cwd: p.dir });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.details];
    throw err;
  }
  return [];
}

describe('unknown keys get a did-you-mean', () => {
  it.each([
    ['swapped letters at top level', 'sings:\n  - artifacts: all\n', 'relsign.config.yaml:1:1: sings: unknown key, did you mean signs?'],
    ['a missing letter at top level', 'checksun:\n  algorithm: sha256\n', 'relsign.config.yaml:1:1: checksun: unknown key, did you mean checksum?'],
    ['nested in a list entry', 'signs:\n  - artfacts: all\n', 'relsign.config.yaml:2:5: signs[0].artfacts: unknown key, did you mean artifacts?'],
    ['nested, swapped letters', 'builds:\n  - id: a\n    tragets: [linux_amd64]\n    cmd: [x]\n', 'relsign.config.yaml:3:5: builds[0].tragets: unknown key, did you mean targets?'],
  ])('%s', async (_name, yaml, expected) => {
    expect(await errorsOf(yaml)).toEqual([expected]);
  });

  it('no suggestion for a key unlike any other, nor for a very long one', async () => {
    expect(await errorsOf('zzzzqqq: 1\n')).toEqual(['relsign.config.yaml:1:1: zzzzqqq: unknown key']);
    const long = `sign${'s'.repeat(500)}`;
    expect(await errorsOf(`${long}: 1\n`)).toEqual([`relsign.config.yaml:1:1: ${long}: unknown key`]);
  });
});

describe("GoReleaser's section names point at relsign's", () => {
  it.each([
    ['dockers', /dockers: unknown key: GoReleaser's dockers is images: in relsign/],
    ['dockers_v2', /dockers_v2: unknown key: GoReleaser's dockers_v2 is images: in relsign/],
    ['kos', /kos: unknown key: GoReleaser's kos is images: in relsign/],
    ['docker_manifests', /docker_manifests: unknown key: GoReleaser's docker_manifests is images: in relsign \(list platforms: on the image/],
    ['nfpms', /nfpms: unknown key: nfpms \(Linux packages\) is not supported by relsign yet/],
    ['brews', /brews: unknown key: brews \(Homebrew taps\) is not supported by relsign yet/],
  ])('%s', async (key, expected) => {
    const errs = await errorsOf(`${key}:\n  - id: x\n`);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(new RegExp(`^relsign\\.config\\.yaml:1:1: ${expected.source}`));
  });

  it('the hint is for top-level sections only', async () => {
    expect(await errorsOf('signs:\n  - dockers: 1\n')).toEqual(['relsign.config.yaml:2:5: signs[0].dockers: unknown key']);
  });
});
