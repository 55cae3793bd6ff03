import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkArtifactName } from '../../src/pipeline/artifact-name.js';
import { unusableKeyRef } from '../../src/stages/sign/builtin.js';
import { hasStackTrace, runCli, type CliResult } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
async function project(config: string): Promise<TempRepo> {
  const r = await TempRepo.create({ 'relsign.config.yaml': config, 'README.md': '# demo\n' });
  repos.push(r);
  await r.commit('initial');
  return r;
}
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

function oneLineError(r: CliResult, code: number, re: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(hasStackTrace(r.stderr)).toBe(false);
  const last = r.stderr.trim().split('\n').pop()!;
  expect(last).toMatch(re);
  expect(r.stderr).not.toMatch(/internal error/);
}

async function tempFilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.relsign-tmp'));
}

const BUILD = [
  'builds:',
  '  - id: b',
  '    binary: app',
  '    cmd: [sh, -c, "echo binary > \\"$RELSIGN_OUTPUT\\""]',
  '    targets: [linux_amd64, windows_amd64]',
  'archives:',
  '  - format_overrides: [{ goos: windows, formats: [zip] }]',
].join('\n');

describe('artifact names are plain file names', () => {
  it('rejects control characters, separators, a leading - or . and names over 255 bytes, naming the template', () => {
    expect(checkArtifactName('demo_1.0_linux.tar.gz', 'w')).toBe('demo_1.0_linux.tar.gz');
    expect(checkArtifactName(`${'é'.repeat(127)}a`, 'w')).toHaveLength(128);
    expect(() => checkArtifactName('demo\nx.txt', 'checksum.name_template')).toThrow(
      'checksum.name_template: name "demo\\nx.txt" contains a control character',
    );
    expect(() => checkArtifactName('a\tb', 'w')).toThrow('contains a control character');
    expect(() => checkArtifactName('a\u0085b', 'w')).toThrow('contains a control character');
    expect(() => checkArtifactName('a/b', 'w')).toThrow('must not contain a path separator');
    expect(() => checkArtifactName('a\\b', 'w')).toThrow('must not contain a path separator');
    expect(() => checkArtifactName('-rf.tar.gz', 'w')).toThrow('w: name "-rf.tar.gz" must not start with "-"');
    expect(() => checkArtifactName('.hidden.tar.gz', 'w')).toThrow('must not start with "."');
    expect(() => checkArtifactName('..', 'w')).toThrow('must not start with "."');
    expect(() => checkArtifactName('', 'w')).toThrow('w: rendered to an empty name');
    expect(() => checkArtifactName('a'.repeat(256), 'w')).toThrow(/is 256 bytes long; file names are limited to 255 bytes$/);
    expect(() => checkArtifactName('é'.repeat(128), 'w')).toThrow('is 256 bytes long');
  });

  it('a 300-character project_name ends in one line naming the archive template, with no temp file left', async () => {
    const p = await project(`project_name: ${'a'.repeat(300)}\n${BUILD}\n`);
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: p.dir });
    oneLineError(r, 1, /^relsign: archives\[0\]\.name_template: name "a{77}\.\.\." is 3\d\d bytes long; file names are limited to 255 bytes$/);
    expect(await tempFilesIn(join(p.dir, 'dist'))).toEqual([]);
  });

  it('a project_name with a newline cannot break checksums.txt: the checksum and source templates are refused', async () => {
    const checksum = await project('project_name: "demo\\nx"\nchecksum:\n  extra_files: [README.md]\n');
    oneLineError(
      await runCli(['release', '--snapshot', '--clean'], { cwd: checksum.dir }),
      1,
      /^relsign: checksum\.name_template: name "demo\\nx_0\.0\.0-SNAPSHOT-[0-9a-f]+_checksums\.txt" contains a control character/,
    );
    expect((await readdir(join(checksum.dir, 'dist'))).filter((n) => n.includes('checksums'))).toEqual([]);
    const source = await project('project_name: "-demo"\nsource:\n  enabled: true\n');
    oneLineError(await runCli(['release', '--snapshot', '--clean'], { cwd: source.dir }), 1, /^relsign: source\.name_template: name "-demo-0\.0\.0-SNAPSHOT-[0-9a-f]+\.tar\.gz" must not start with "-"$/);
    const archive = await project(`project_name: ".demo"\n${BUILD}\n`);
    oneLineError(await runCli(['release', '--snapshot', '--clean'], { cwd: archive.dir }), 1, /^relsign: archives\[0\]\.name_template: name "\.demo_.*" must not start with "\."$/);
  });
});

describe('flags and settings that used to be misread', () => {
  it('--timeout beyond 24 days is a usage error naming --timeout; 576h is accepted', async () => {
    const p = await project('project_name: demo\n');
    const r = await runCli(['release', '--snapshot', '--timeout', '600h'], { cwd: p.dir });
    oneLineError(r, 2, /^relsign: --timeout: 600h is longer than the longest supported timeout, 576h \(24 days\)$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const ok = await runCli(['release', '--snapshot', '--clean', '--timeout', '576h'], { cwd: p.dir });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('k8s://, KMS and empty env:// keys are refused by check and by a snapshot, not replaced by an ephemeral key', async () => {
    expect(unusableKeyRef('k8s://ns/secret')).toMatch(/^k8s:\/\/ keys are not supported by signer: builtin/);
    expect(unusableKeyRef('awskms://alias/x')).toMatch(/^awskms:\/\/ keys are not supported/);
    expect(unusableKeyRef('pkcs11:token=x')).toMatch(/^pkcs11: keys are not supported/);
    expect(unusableKeyRef('env://')).toBe('"env://" names no environment variable (use env://VAR)');
    expect(unusableKeyRef('env://A B')).toMatch(/is not an environment variable name/);
    expect(unusableKeyRef('env://COSIGN_PRIVATE_KEY')).toBeUndefined();
    expect(unusableKeyRef('keys/cosign.key')).toBeUndefined();

    const signs = (key: string) => `project_name: demo\nchecksum:\n  extra_files: [README.md]\nsigns:\n  - signer: builtin\n    artifacts: checksum\n    key: ${key}\n`;
    for (const [key, re] of [
      ['k8s://ns/secret', /^relsign: relsign\.config\.yaml:7:10: signs\[0\]\.key: k8s:\/\/ keys are not supported by signer: builtin/],
      ['"env://"', /^relsign: relsign\.config\.yaml:7:10: signs\[0\]\.key: "env:\/\/" names no environment variable/],
    ] as const) {
      const p = await project(signs(key));
      oneLineError(await runCli(['check'], { cwd: p.dir }), 1, re);
    }
    // A templated key is only known at run time: the snapshot refuses it there.
    const p = await project(signs('"{{ .Env.SIGNING_KEY }}"'));
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: p.dir, env: { SIGNING_KEY: 'k8s://ns/secret' } });
    oneLineError(r, 1, /^relsign: signs\[0\]\.key: k8s:\/\/ keys are not supported by signer: builtin/);
    expect(await readdir(join(p.dir, 'dist'))).not.toContain('relsign-ephemeral.pub');
    expect(r.stderr).not.toMatch(/ephemeral/);
    // An unset variable under --snapshot still signs with an ephemeral key, as documented.
    const unset = await project(signs('env://NO_SUCH_SIGNING_KEY'));
    const ok = await runCli(['release', '--snapshot', '--clean'], { cwd: unset.dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readdir(join(unset.dir, 'dist'))).toContain('relsign-ephemeral.pub');
  });

  it('an unknown YAML tag is an error with file:line:col, not silently a string', async () => {
    const p = await project('project_name: demo\nsigns:\n  - signer: builtin\n    key: !js/function "function () {}"\n');
    const r = await runCli(['check'], { cwd: p.dir });
    oneLineError(r, 1, /^relsign: relsign\.config\.yaml:4:10: YAML error: unknown tag: !js\/function \(relsign configs use plain YAML values; remove the tag\)$/);
    const core = await project('project_name: !!float demo\n');
    oneLineError(await runCli(['check'], { cwd: core.dir }), 1, /^relsign: relsign\.config\.yaml:1:15: YAML error: unknown tag: tag:yaml\.org,2002:float \(relsign configs use plain YAML values; remove the tag\)$/);
  });
});
