import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * `relsign init --from` on real GoReleaser configs of public projects (saved
 * unmodified under test/fixtures/goreleaser, each naming its repository and
 * commit in a header comment). The result must pass `relsign check`, and every
 * field that was not converted is reported with its line.
 */
const FIXTURES = new URL('../fixtures/goreleaser/', import.meta.url).pathname;
const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

interface Config {
  project_name: string;
  env?: string[];
  before?: { hooks: unknown[] };
  builds: Array<{ id: string; cmd: string[]; targets: string[]; binary: string; env?: string[]; output?: string; hooks?: { pre?: unknown[]; post?: unknown[] } }>;
  archives: Array<Record<string, unknown>>;
  checksum?: Record<string, unknown>;
  signs?: Array<Record<string, unknown>>;
  docker_signs?: Array<Record<string, unknown>>;
  release?: Record<string, unknown>;
  changelog?: Record<string, unknown>;
  snapshot?: Record<string, unknown>;
}

async function convert(fixture: string): Promise<{ config: Config; text: string; notConverted: string[]; dir: string }> {
  const r = await TempRepo.create();
  repos.push(r);
  await copyFile(join(FIXTURES, fixture), join(r.dir, fixture));
  const init = await runCli(['init', '--from', fixture], { cwd: r.dir });
  expect(init.code, init.stderr).toBe(0);
  const notConverted = init.stdout
    .split('\n')
    .filter((l) => l.startsWith('not converted: '))
    .map((l) => {
      const m = new RegExp(`^not converted: ${fixture.replace(/\./g, '\\.')}:(\\d+): ([^:]+): .+$`).exec(l);
      expect(m, l).not.toBeNull();
      return `${m![1]} ${m![2]}`;
    });
  const check = await runCli(['check'], { cwd: r.dir });
  expect(check.code, check.stderr).toBe(0);
  const text = await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8');
  return { config: parse(text) as Config, text, notConverted, dir: r.dir };
}

describe('relsign init --from a real .goreleaser.yaml', () => {
  it('goreleaser/goreleaser: the Go matrix minus ignore, ldflags, cosign bundle signing; 30 fields listed', async () => {
    const { config, text, notConverted } = await convert('goreleaser.goreleaser.yaml');
    expect(notConverted).toEqual([
      '6 pro', '19 gomod', '22 report_sizes', '24 git', '29 metadata', '52 builds[0].mod_timestamp', '58 universal_binaries',
      '61 notarize', '81 changelog.use', '82 changelog.format', '105 changelog.groups', '121 dockers_v2', '157 archives[0].builds_info',
      '183 homebrew_casks', '202 nix', '216 winget', '234 aurs', '261 scoops', '271 npms', '290 nfpms', '350 snapcrafts',
      '361 flatpak', '370 sboms', '393 verify', '414 gemfury', '418 milestones', '421 nightly', '429 release.header',
      '436 release.footer', '455 announce',
    ]);
    // The same list heads the written config.
    expect(text).toMatch(/^#   429: release\.header: relsign check: template uses unknown field \.IsNightly$/m);
    expect(text).toMatch(/^#   19: gomod: /m);
    expect(config.project_name).toBeUndefined(); // GoReleaser's comes from the remote too; so does relsign's
    expect(config.env).toEqual(['GO111MODULE=on']);
    expect(config.before?.hooks).toEqual(['go mod tidy', './scripts/completions_and_manpages.sh']);
    const [build] = config.builds;
    expect(build!.targets).toEqual([
      'linux_386', 'linux_amd64', 'linux_arm_7', 'linux_arm64', 'linux_loong64', 'linux_ppc64', 'linux_riscv64',
      'darwin_amd64', 'darwin_arm64', 'windows_386', 'windows_amd64', 'windows_arm64',
    ]);
    expect(build!.env).toEqual(['CGO_ENABLED=0']);
    expect(build!.cmd).toEqual([
      'go', 'build', '-trimpath',
      '-ldflags=-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{ .CommitDate }} -X main.builtBy=goreleaser -X main.treeState={{ .IsGitDirty }}',
      '-o', '{{ .Env.RELSIGN_OUTPUT }}', '.',
    ]);
    expect(config.archives[0]).toMatchObject({ format_overrides: [{ goos: 'windows', formats: ['zip'] }] });
    expect(config.checksum).toEqual({ name_template: 'checksums.txt' });
    expect(config.signs).toEqual([
      { signer: 'cmd', cmd: 'cosign', signature: '${artifact}.sigstore.json', output: '{{ not (isEnvSet "CI" )}}', artifacts: 'checksum', args: ['sign-blob', '--bundle=${signature}', '${artifact}', '--yes'] },
    ]);
    expect(config.docker_signs).toEqual([
      { signer: 'cmd', cmd: 'cosign', artifacts: 'manifests', output: '{{ not (isEnvSet "CI" )}}', args: ['sign', '${artifact}@${digest}', '--yes'] },
    ]);
    expect(config.snapshot).toEqual({ version_template: '{{ incpatch .Version }}-next' });
    expect(config.changelog).toMatchObject({ sort: 'asc' });
    expect((config.changelog!.filters as { exclude: string[] }).exclude).toContain('^test:');
    expect(config.release).toEqual({ name_template: '{{ .Tag }}', prerelease: 'auto' });
  });

  it('sigstore/cosign: six builds with tags, hooks and goarm, straight into dist/ (no_unique_dist_dir); binary archives', async () => {
    const { config, notConverted } = await convert('cosign.goreleaser.yml');
    expect(notConverted).toEqual([
      '18 gomod', '21 sboms', '31 builds[0].mod_timestamp', '54 builds[1].mod_timestamp', '77 builds[2].mod_timestamp',
      '105 builds[3].mod_timestamp', '142 builds[5].mod_timestamp', '179 nfpms', '202 archives[0].allow_different_binary_count',
    ]);
    expect(config.builds.map((b) => b.id)).toEqual(['linux', 'linux-pivkey-pkcs11key-amd64', 'linux-pivkey-pkcs11key-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64']);
    expect(config.builds[0]!.targets).toEqual(['linux_amd64', 'linux_arm64', 'linux_arm_7', 'linux_s390x', 'linux_ppc64le', 'linux_riscv64']);
    expect(config.builds[1]!.cmd).toEqual(['go', 'build', '-trimpath', '-ldflags={{ .Env.LDFLAGS }}', '-tags=pivkey,pkcs11key', '-o', '{{ .Env.RELSIGN_OUTPUT }}', './cmd/cosign']);
    expect(config.builds[1]!.hooks).toEqual({ pre: ['apt-get update', 'apt-get -y install --no-install-recommends libpcsclite-dev'] });
    expect(config.builds[5]!.cmd).toContain('-ldflags=-buildmode=exe {{ .Env.LDFLAGS }}');
    // no_unique_dist_dir: the binary lands in dist/ itself, where the signs' cmd (./dist/cosign-linux-amd64) expects it.
    for (const b of config.builds) expect(b.output).toBe('{{ .Binary }}{{ if eq .Os "windows" }}.exe{{ end }}');
    expect(config.archives).toEqual([{ id: 'default', formats: ['binary'], name_template: '{{ .Binary }}' }]);
    expect(config.signs!.map((s) => [s.id, s.signer, s.cmd, s.artifacts])).toEqual([
      ['cosign', 'cmd', './dist/cosign-linux-amd64', 'binary'],
      ['cosign-keyless', 'cmd', './dist/cosign-linux-amd64', 'binary'],
      ['checksum-keyless', 'cmd', './dist/cosign-linux-amd64', 'checksum'],
      ['packages-keyless', 'cmd', './dist/cosign-linux-amd64', 'package'],
    ]);
    expect(config.release).toMatchObject({ draft: true, github: { owner: 'sigstore', name: 'cosign' }, extra_files: [{ glob: './release/release-cosign.pub' }] });
    expect(config.snapshot).toEqual({ version_template: 'SNAPSHOT-{{ .ShortCommit }}' });
  });

  it('cli/cli (gh): deprecated archives format/builds renamed; hooks with unsupported templates listed, not dropped silently', async () => {
    const { config, notConverted } = await convert('gh.goreleaser.yml');
    expect(notConverted).toEqual([
      '12 before.hooks[0]', '14 before.hooks[1]', '22 builds[0].hooks.post[0].cmd', '44 builds[2].hooks.post[0].cmd',
      '58 archives[0].rlcp', '67 archives[1].rlcp', '76 archives[2].rlcp', '80 nfpms',
    ]);
    expect(config.before).toBeUndefined();
    expect(config.builds.map((b) => [b.id, b.targets])).toEqual([
      ['macos', ['darwin_amd64', 'darwin_arm64']],
      ['linux', ['linux_386', 'linux_arm_6', 'linux_amd64', 'linux_arm64']],
      ['windows', ['windows_386', 'windows_amd64', 'windows_arm64']],
    ]);
    expect(config.builds[0]!.hooks).toBeUndefined();
    expect(config.builds[1]!.cmd[2]).toBe('-ldflags=-s -w -X github.com/cli/cli/v2/internal/build.Version={{.Version}} -X github.com/cli/cli/v2/internal/build.Date={{time "2006-01-02"}}');
    expect(config.archives.map((a) => [a.id, a.ids, a.formats, a.wrap_in_directory])).toEqual([
      ['linux-archive', ['linux'], ['tar.gz'], true],
      ['macos-archive', ['macos'], ['zip'], true],
      ['windows-archive', ['windows'], ['zip'], false],
    ]);
    expect(config.release).toEqual({ prerelease: 'auto', draft: true, name_template: 'GitHub CLI {{.Version}}' });
  });

  it('bad input: one line naming the file (and line) — not YAML, not a mapping, missing', async () => {
    const r = await TempRepo.create();
    repos.push(r);
    await writeFile(join(r.dir, 'broken.yaml'), 'builds:\n  - id: a\n   bad: [\n');
    await writeFile(join(r.dir, 'list.yaml'), '- a\n- b\n');
    for (const [file, message] of [
      ['broken.yaml', /^relsign: broken\.yaml:\d+: not valid YAML: /],
      ['list.yaml', /^relsign: list\.yaml: not a GoReleaser config/],
      ['missing.yaml', /^relsign: --from missing\.yaml: no such file$/],
    ] as const) {
      const res = await runCli(['init', '--from', file], { cwd: r.dir });
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr.trim()).toMatch(message);
      expect(hasStackTrace(res.stderr)).toBe(false);
    }
  });
});
