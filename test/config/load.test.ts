import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
async function project(files: Record<string, string>): Promise<TempRepo> {
  const r = await TempRepo.plain(files);
  repos.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

async function errorsOf(files: Record<string, string>, configPath?: string): Promise<string[]> {
  const p = await project(files);
  try {
    await loadConfig({ cwd: p.dir, configPath });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.details];
    throw err;
  }
  return [];
}

async function configOf(files: Record<string, string>) {
  const p = await project(files);
  return (await loadConfig({ cwd: p.dir })).config;
}

describe('config discovery', () => {
  it.each([
    ['relsign.config.yaml', 'project_name: a\n'],
    ['relsign.config.yml', 'project_name: a\n'],
    ['relsign.config.json', '{"project_name": "a"}'],
    ['.relsignrc', 'project_name: a\n'],
    ['.relsignrc.yaml', 'project_name: a\n'],
    ['.relsignrc.json', '{"project_name": "a"}'],
    ['relsign.config.mjs', 'export default { project_name: "a" };\n'],
    ['package.json', '{"name": "x", "relsign": {"project_name": "a"}}'],
  ])('finds %s', async (file, content) => {
    const p = await project({ [file]: content });
    const loaded = await loadConfig({ cwd: p.dir });
    expect(loaded.config.project_name).toBe('a');
  });

  it('says where it looked when nothing is found', async () => {
    const p = await project({});
    await expect(loadConfig({ cwd: p.dir })).rejects.toThrow(/no relsign config found .*relsign\.config\.\{yaml/);
  });

  it('--config names a missing file', async () => {
    const p = await project({});
    await expect(loadConfig({ cwd: p.dir, configPath: 'nope.yaml' })).rejects.toThrow(/config file not found: .*nope\.yaml/);
  });
});

describe('defaults', () => {
  it('are applied in one place, GoReleaser-compatible', async () => {
    const p = await project({
      'relsign.config.yaml': 'builds:\n  - cmd: [sh, build.sh]\nsigns:\n  - artifacts: checksum\n  - id: b\n    key: cosign.key\n',
    });
    const { config } = await loadConfig({ cwd: p.dir });
    expect(config.dist).toBe('dist');
    expect(config.project_name).toBe(p.dir.split('/').pop());
    expect(config.builds[0]!.id).toBe('default');
    expect(config.archives).toHaveLength(1);
    expect(config.archives[0]!.formats).toEqual(['tar.gz']);
    expect(config.checksum.name_template).toBe('{{ .ProjectName }}_{{ .Version }}_checksums.txt');
    expect(config.signs[0]).toMatchObject({ signer: 'cmd', cmd: 'gpg', signature: '${artifact}.sig' });
    expect(config.signs[0]!.args).toEqual(['--output', '$signature', '--detach-sig', '$artifact']);
    expect(config.signs[1]).toMatchObject({ signer: 'builtin', password: '{{ .Env.COSIGN_PASSWORD }}' });
    expect(config.snapshot.version_template).toBe('{{ .Version }}-SNAPSHOT-{{ .ShortCommit }}');
    expect(config.release).toMatchObject({ prerelease: 'auto', mode: 'keep-existing', name_template: '{{ .Tag }}' });
  });
});

describe('config errors name file:line:col and the path', () => {
  it('YAML syntax error', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'project_name: a\nbuilds:\n  - id: x\n   cmd: [a\n' });
    expect(errs.length).toBeGreaterThan(0);
    expect(errs[0]).toMatch(/^relsign\.config\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('unknown key, with a suggestion and the key position', async () => {
    const errs = await errorsOf({
      'relsign.config.yaml': 'signs:\n  - artifacts: checksum\n  - id: two\n    artfacts: all\n',
    });
    expect(errs).toEqual(['relsign.config.yaml:4:5: signs[1].artfacts: unknown key, did you mean artifacts?']);
  });

  it('unknown key with no close match', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'zzzzqqq: 1\n' });
    expect(errs).toEqual(['relsign.config.yaml:1:1: zzzzqqq: unknown key']);
  });

  it('wrong type', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'builds:\n  - targets: linux_amd64\n' });
    expect(errs).toEqual(['relsign.config.yaml:2:14: builds[0].targets: must be array, got string']);
  });

  it('enum', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'signs:\n  - artifacts: everything\n' });
    expect(errs[0]).toMatch(/^relsign\.config\.yaml:2:16: signs\[0\]\.artifacts: must be one of "none", "all", .*got "everything"$/);
  });

  it('a union field with a typo inside its object form says unknown key, not "must be string"', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'before:\n  hooks:\n    - cmd: make\n      shel: true\n' });
    expect(errs).toEqual(['relsign.config.yaml:4:7: before.hooks[0].shel: unknown key, did you mean shell?']);
  });

  it('a union field of the wrong type lists what is allowed', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'before:\n  hooks:\n    - 42\n' });
    expect(errs).toEqual(['relsign.config.yaml:3:7: before.hooks[0]: must be string or object, got integer']);
  });

  it('duplicate ids', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'signs:\n  - artifacts: checksum\n  - artifacts: archive\n' });
    expect(errs).toEqual([
      'relsign.config.yaml:3:5: signs[1]: id "default" is already used by signs[0] (the default id); give each entry its own id',
    ]);
  });

  it('signature names that would collide', async () => {
    const errs = await errorsOf({
      'relsign.config.yaml': 'signs:\n  - artifacts: checksum\n  - id: all\n    artifacts: all\n    signature: "$<artifact>.sig"\n',
    });
    expect(errs).toEqual([
      'relsign.config.yaml:5:16: signs[1].signature: "$<artifact>.sig" gives the same file names as signs[0].signature for checksum artifacts; make them differ',
    ]);
  });

  it('builtin signer without a key', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'signs:\n  - signer: builtin\n    artifacts: all\n' });
    expect(errs).toEqual(['relsign.config.yaml:2:5: signs[0]: signer: builtin needs key: (a path or env://VAR)']);
  });

  it('signer: keyless: defaults (bundle .sigstore.json, no .sig), GoReleaser spelling, and misuse', async () => {
    const ok = await configOf({
      'relsign.config.yaml': 'signs:\n  - signer: keyless\n    artifacts: archive\n  - id: gr\n    signer: keyless\n    artifacts: checksum\n    signature: "${artifact}.sigstore.json"\ndocker_signs:\n  - signer: keyless\n',
    });
    expect(ok.signs[0]).toMatchObject({ signer: 'keyless', signature: '', bundle: '${artifact}.sigstore.json', new_bundle_format: true });
    expect(ok.signs[1]).toMatchObject({ signature: '', bundle: '${artifact}.sigstore.json' });
    expect(ok.docker_signs[0]).toMatchObject({ signer: 'keyless', storage: 'referrers' });
    const errs = await errorsOf({
      'relsign.config.yaml': 'signs:\n  - signer: keyless\n    key: cosign.key\n    tlog_upload: false\n    artifacts: all\n  - id: c\n    cmd: cosign\n    rekor_url: https://rekor.example\n    artifacts: checksum\n    signature: x.sig\n',
    });
    expect(errs).toEqual([
      'relsign.config.yaml:3:10: signs[0].key: key has no effect with signer: keyless (the key is ephemeral); remove it or use signer: builtin',
      'relsign.config.yaml:4:18: signs[0].tlog_upload: signer: keyless always records signatures in the transparency log; tlog_upload: false needs signer: builtin',
      'relsign.config.yaml:8:16: signs[1].rekor_url: rekor_url applies to signer: builtin or keyless, not cmd',
    ]);
  });

  it('several problems are all reported', async () => {
    const errs = await errorsOf({ 'relsign.config.yaml': 'dist: 3\nsigns:\n  - artfacts: all\n' });
    expect(errs).toHaveLength(2);
  });

  it('JSON configs are validated too (no positions)', async () => {
    const errs = await errorsOf({ 'relsign.config.json': '{"signs": [{"artfacts": "all"}]}' });
    expect(errs).toEqual(['relsign.config.json: signs[0].artfacts: unknown key, did you mean artifacts?']);
  });

  it('accepts the yaml-language-server schema comment and $schema key', async () => {
    const errs = await errorsOf({
      'relsign.config.yaml': '# yaml-language-server: $schema=./node_modules/relsign/schema/relsign.schema.json\n$schema: x\nproject_name: a\n',
    });
    expect(errs).toEqual([]);
  });
});
