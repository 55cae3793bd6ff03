/**
 * The effective relsign config, after defaults (src/config/defaults.ts) are
 * applied. Keys keep their YAML spelling (snake_case) so that a path in an
 * error message is the path a user types. The JSON Schema in
 * schema/relsign.schema.json is the source of truth for what is allowed.
 */

import type { RegistryLogin } from '../oci/credentials.js';

/** A hook: a command line (split like a shell would, but run without one) or an object. */
export type HookConfig =
  | string
  | {
      cmd: string | string[];
      dir?: string;
      env?: string[];
      /** Run `cmd` (a string) through `sh -c`. Off by default. */
      shell?: boolean;
      /** Show the hook's output even without --verbose. */
      output?: boolean;
    };

export interface BuildConfig {
  id: string;
  /** The build command, run once per target. Array = argv; string = split into argv (no shell). */
  cmd?: string | string[];
  dir?: string;
  env: string[];
  /** `os_arch` pairs such as `linux_amd64`, `darwin_arm64`, `windows_amd64`, `linux_arm_7`. */
  targets: string[];
  /** Binary name template (without `.exe`, which Windows targets get automatically). */
  binary: string;
  /** Output path template, relative to dist. */
  output?: string;
  hooks: { pre: HookConfig[]; post: HookConfig[] };
  /** Skip this build (bool or template that renders "true"). */
  skip?: boolean | string;
  /** Paths (templated per target) of binaries built elsewhere; replaces `cmd`. */
  prebuilt?: string;
}

export interface ArchiveFileInfo {
  owner?: string;
  group?: string;
  mode?: number;
  mtime?: string;
}

export type ArchiveFileConfig =
  | string
  | { src: string; dst?: string; strip_parent?: boolean; info?: ArchiveFileInfo };

export type ArchiveFormat = 'tar.gz' | 'tgz' | 'tar' | 'zip' | 'gz' | 'binary';

export interface ArchiveConfig {
  id: string;
  ids: string[];
  formats: ArchiveFormat[];
  name_template: string;
  format_overrides: Array<{ goos: string; formats: Array<ArchiveFormat | 'none'> }>;
  wrap_in_directory?: boolean | string;
  files: ArchiveFileConfig[];
  meta: boolean;
}

export interface SourceConfig {
  enabled: boolean;
  name_template: string;
  format: 'tar.gz' | 'tgz' | 'tar' | 'zip';
  prefix_template?: string;
}

export type ChecksumAlgorithm = 'sha256' | 'sha512' | 'sha1';

export interface ChecksumConfig {
  name_template: string;
  algorithm: ChecksumAlgorithm;
  split: boolean;
  ids: string[];
  extra_files: Array<string | { glob: string; name_template?: string }>;
  disable: boolean;
}

export interface ImageFileConfig {
  src: string;
  /** Absolute path in the image; a trailing `/` means "into this folder". */
  dst: string;
  mode?: number;
}

export interface ImageConfig {
  id: string;
  /** Build ids whose binaries go into the image (empty: every build). */
  ids: string[];
  /** Repositories to push to, without tags (templated). `repository:` in the YAML is folded in here. */
  repositories: string[];
  /** As written: set when the YAML used `repository:`. */
  repository?: string;
  /** Tags (templated); an empty rendered tag is skipped. */
  tags: string[];
  /** Base image reference; `scratch` for none. */
  base: string;
  /** `os/arch[/variant]`. */
  platforms: string[];
  /** Folder in the image that receives the build binaries. */
  binary_dir: string;
  files: ImageFileConfig[];
  entrypoint?: string[];
  cmd?: string[];
  env: string[];
  workdir?: string;
  user?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  push: boolean | string;
}

export type SignArtifacts = 'none' | 'all' | 'checksum' | 'source' | 'archive' | 'binary' | 'package' | 'sbom';
export type DockerSignArtifacts = 'none' | 'all' | 'images' | 'manifests';

export interface SignConfig {
  id: string;
  /**
   * `cmd` runs an external signer (gpg, cosign...); `builtin` signs in-process
   * with a cosign key; `keyless` signs in-process with a Fulcio certificate.
   */
  signer: 'cmd' | 'builtin' | 'keyless';
  cmd?: string;
  /** With `cmd: cosign`: `builtin` runs it in-process, `path` needs the real cosign, `auto` (default) falls back to builtin. */
  cosign?: 'auto' | 'builtin' | 'path';
  args: string[];
  signature: string;
  certificate?: string;
  /** docker_signs without `artifacts:`: the image indexes where there are any, else the images. */
  artifacts?: SignArtifacts | DockerSignArtifacts;
  ids: string[];
  stdin?: string;
  stdin_file?: string;
  env: string[];
  output?: boolean | string;
  if?: string;
  /** builtin signer: key reference (path or env://VAR). */
  key?: string;
  /** builtin signer: password template. */
  password?: string;
  /** builtin signer: bundle output template. */
  bundle?: string;
  new_bundle_format?: boolean;
  /**
   * builtin (and a pasted cosign command run in-process): the public key the
   * release's signatures are verified against before publishing (file or
   * env://VAR, a template). Default: the signing key's public half.
   */
  public_key?: string;
  /** builtin: record signatures in Rekor (default: on for releases, off under --snapshot). keyless always does. */
  tlog_upload?: boolean;
  /** keyless: Fulcio URL template (default: public-good signing config). */
  fulcio_url?: string;
  /** builtin, keyless: Rekor URL template (default: public-good signing config). */
  rekor_url?: string;
  /** builtin, keyless: RFC 3161 TSA URL template (default: none). */
  tsa_url?: string;
  /** builtin, keyless: per-request timeout for the Sigstore services, e.g. `30s`. */
  timeout?: string;
  /** Max artifacts signed at once by this entry (defaults to --parallelism). */
  parallelism?: number;
  /** docker_signs, builtin signer: cosign's `-a key=value` (values are templates). */
  annotations?: Record<string, string>;
  /** docker_signs, builtin signer: where signatures go (default legacy). */
  storage?: 'legacy' | 'referrers' | 'both';
}

export interface ReleaseConfig {
  github: { owner?: string; name?: string };
  ids: string[];
  draft: boolean;
  prerelease: 'auto' | boolean | string;
  make_latest?: boolean | string;
  name_template: string;
  header?: string;
  footer?: string;
  mode: 'keep-existing' | 'append' | 'prepend' | 'replace';
  replace_existing_artifacts: boolean;
  use_existing_draft: boolean;
  replace_existing_draft: boolean;
  extra_files: Array<string | { glob: string; name_template?: string }>;
  skip_upload: boolean | string;
  target_commitish?: string;
  disable: boolean | string;
  /** The signed release manifest (an in-toto statement of every asset). */
  manifest: { name_template: string; disable: boolean };
  /** Verify every signature relsign made before the release is published. */
  verify: boolean;
}

export interface ChangelogConfig {
  disable: boolean;
  sort: 'asc' | 'desc' | '';
  filters: { exclude: string[]; include: string[] };
}

export interface RelsignConfig {
  version?: number;
  project_name: string;
  dist: string;
  env: string[];
  before: { hooks: HookConfig[] };
  builds: BuildConfig[];
  archives: ArchiveConfig[];
  source: SourceConfig;
  checksum: ChecksumConfig;
  images: ImageConfig[];
  /** Logins for image registries; username/password are templates rendered by the images stage. */
  registries: RegistryLogin[];
  signs: SignConfig[];
  docker_signs: SignConfig[];
  release: ReleaseConfig;
  changelog: ChangelogConfig;
  snapshot: { version_template: string };
  github_urls: { api?: string; upload?: string; download?: string };
}
