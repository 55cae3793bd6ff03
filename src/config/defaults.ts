import type {
  ArchiveConfig,
  BuildConfig,
  RelsignConfig,
  SignConfig,
} from './types.js';

/**
 * Every default lives here, applied once to the validated raw config. Values
 * match GoReleaser's where the key means the same, so a pasted section behaves
 * as it did there.
 */
export const DEFAULT_BUILD_TARGETS = ['linux_amd64', 'linux_arm64', 'darwin_amd64', 'darwin_arm64', 'windows_amd64'];
export const DEFAULT_ARCHIVE_NAME = '{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}';
export const DEFAULT_CHECKSUM_NAME = '{{ .ProjectName }}_{{ .Version }}_checksums.txt';
/** With checksum.split: one file per artifact (GoReleaser's default). */
export const DEFAULT_SPLIT_CHECKSUM_NAME = '{{ .ArtifactName }}.{{ .Algorithm }}';
/** With archives.formats containing `binary`: the binary's name replaces the project name. */
export const DEFAULT_BINARY_ARCHIVE_NAME = '{{ .Binary }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}';
export const DEFAULT_SNAPSHOT_VERSION = '{{ .Version }}-SNAPSHOT-{{ .ShortCommit }}';
export const DEFAULT_MANIFEST_NAME = '{{ .ProjectName }}_{{ .Version }}_manifest.json';
/** GoReleaser's default gpg invocation (`$x` spelling, as its code has it). */
export const DEFAULT_GPG_ARGS = ['--output', '$signature', '--detach-sig', '$artifact'];
export const DEFAULT_IMAGE_TAGS = ['{{ .Version }}'];
export const DEFAULT_IMAGE_BINARY_DIR = '/usr/local/bin';
export const DEFAULT_COSIGN_DOCKER_ARGS = ['sign', '--key=cosign.key', '${artifact}@${digest}', '--yes'];

type Raw = Record<string, any>;

export function applyDefaults(raw: Raw, fallback: { projectName: string }): RelsignConfig {
  const builds: BuildConfig[] = (raw.builds ?? []).map((b: Raw) => ({
    ...b,
    id: b.id ?? 'default',
    env: b.env ?? [],
    targets: b.targets ?? DEFAULT_BUILD_TARGETS,
    binary: b.binary ?? '{{ .ProjectName }}',
    hooks: { pre: b.hooks?.pre ?? [], post: b.hooks?.post ?? [] },
  }));

  const archiveDefaults = (a: Raw): ArchiveConfig => ({
    ...a,
    id: a.id ?? 'default',
    ids: a.ids ?? [],
    formats: a.formats ?? ['tar.gz'],
    name_template: a.name_template ?? ((a.formats ?? []).includes('binary') ? DEFAULT_BINARY_ARCHIVE_NAME : DEFAULT_ARCHIVE_NAME),
    format_overrides: a.format_overrides ?? [],
    files: a.files ?? [],
    meta: a.meta ?? false,
  });
  // As in GoReleaser, a project with builds gets one default archive unless it configures its own.
  const archives: ArchiveConfig[] =
    raw.archives !== undefined ? raw.archives.map(archiveDefaults) : builds.length > 0 ? [archiveDefaults({})] : [];

  const signs: SignConfig[] = (raw.signs ?? []).map((s: Raw) => signDefaults(s, 'blob'));
  const dockerSigns: SignConfig[] = (raw.docker_signs ?? []).map((s: Raw) => signDefaults(s, 'docker'));

  const r = raw.release ?? {};
  return {
    version: raw.version,
    project_name: raw.project_name ?? fallback.projectName,
    dist: raw.dist ?? 'dist',
    env: raw.env ?? [],
    before: { hooks: raw.before?.hooks ?? [] },
    builds,
    archives,
    source: {
      enabled: raw.source?.enabled ?? false,
      name_template: raw.source?.name_template ?? '{{ .ProjectName }}-{{ .Version }}',
      format: raw.source?.format ?? 'tar.gz',
      prefix_template: raw.source?.prefix_template,
    },
    checksum: {
      name_template: raw.checksum?.name_template ?? (raw.checksum?.split ? DEFAULT_SPLIT_CHECKSUM_NAME : DEFAULT_CHECKSUM_NAME),
      algorithm: raw.checksum?.algorithm ?? 'sha256',
      split: raw.checksum?.split ?? false,
      ids: raw.checksum?.ids ?? [],
      extra_files: raw.checksum?.extra_files ?? [],
      disable: raw.checksum?.disable ?? false,
    },
    images: (raw.images ?? []).map((i: Raw) => ({
      ...i,
      id: i.id ?? 'default',
      ids: i.ids ?? [],
      repositories: i.repositories ?? (i.repository !== undefined ? [i.repository] : []),
      tags: i.tags ?? [...DEFAULT_IMAGE_TAGS],
      base: i.base ?? 'scratch',
      platforms: i.platforms ?? ['linux/amd64'],
      binary_dir: i.binary_dir ?? DEFAULT_IMAGE_BINARY_DIR,
      files: i.files ?? [],
      env: i.env ?? [],
      labels: i.labels ?? {},
      annotations: i.annotations ?? {},
      push: i.push ?? true,
    })),
    registries: (raw.registries ?? []).map((r: Raw) => ({ ...r, insecure: r.insecure ?? false })),
    signs,
    docker_signs: dockerSigns,
    release: {
      ...r,
      github: { ...(r.github ?? {}) },
      ids: r.ids ?? [],
      draft: r.draft ?? false,
      prerelease: r.prerelease ?? 'auto',
      name_template: r.name_template ?? '{{ .Tag }}',
      mode: r.mode ?? 'keep-existing',
      replace_existing_artifacts: r.replace_existing_artifacts ?? false,
      use_existing_draft: r.use_existing_draft ?? false,
      replace_existing_draft: r.replace_existing_draft ?? false,
      extra_files: r.extra_files ?? [],
      skip_upload: r.skip_upload ?? false,
      disable: r.disable ?? false,
      manifest: {
        name_template: r.manifest?.name_template ?? DEFAULT_MANIFEST_NAME,
        disable: r.manifest?.disable ?? false,
      },
      verify: r.verify ?? true,
    },
    changelog: {
      disable: raw.changelog?.disable ?? false,
      sort: raw.changelog?.sort ?? '',
      filters: {
        exclude: raw.changelog?.filters?.exclude ?? [],
        include: raw.changelog?.filters?.include ?? [],
      },
    },
    snapshot: { version_template: raw.snapshot?.version_template ?? DEFAULT_SNAPSHOT_VERSION },
    github_urls: { ...(raw.github_urls ?? {}) },
  };
}

function signDefaults(s: Raw, kind: 'blob' | 'docker'): SignConfig {
  // `signer` defaults to cmd when a cmd is given; a bare `key:` means the in-process signer.
  const signer: 'cmd' | 'builtin' | 'keyless' = s.signer ?? (s.cmd ? 'cmd' : s.key ? 'builtin' : 'cmd');
  const keyless = signer === 'keyless';
  const base: SignConfig = {
    ...s,
    id: s.id ?? 'default',
    signer,
    args: s.args ?? [],
    // keyless writes a Sigstore bundle by default; a .sig and .pem only when asked.
    signature: s.signature ?? (kind === 'blob' && !keyless ? '${artifact}.sig' : ''),
    artifacts: s.artifacts ?? (kind === 'blob' ? 'none' : undefined),
    ids: s.ids ?? [],
    env: s.env ?? [],
  };
  if (signer === 'cmd') {
    base.cmd = s.cmd ?? (kind === 'blob' ? 'gpg' : 'cosign');
    if (s.args === undefined) base.args = kind === 'blob' ? [...DEFAULT_GPG_ARGS] : [...DEFAULT_COSIGN_DOCKER_ARGS];
  } else if (keyless) {
    if (kind === 'blob') {
      // GoReleaser's cosign v3 spelling (`signature: ${artifact}.sigstore.json`) names the bundle.
      if (s.bundle === undefined && typeof s.signature === 'string' && s.signature.endsWith('.sigstore.json')) {
        base.bundle = s.signature;
        base.signature = '';
      }
      base.bundle = base.bundle ?? '${artifact}.sigstore.json';
    }
    base.new_bundle_format = s.new_bundle_format ?? true;
    if (kind === 'docker') base.storage = s.storage ?? 'referrers';
  } else {
    base.password = s.password ?? '{{ .Env.COSIGN_PASSWORD }}';
    if (kind === 'docker') base.storage = s.storage ?? 'legacy';
  }
  return base;
}
