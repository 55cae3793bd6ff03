import type { ProjectInfo } from './detect.js';

/** Options that change what `relsign init` writes. */
export interface InitOptions {
  /** Image repository (e.g. `ghcr.io/acme/tool`): adds an `images:` section and a registry login. */
  image?: string;
  /** Sign with cosign keyless (OIDC from CI) instead of a key in COSIGN_PRIVATE_KEY. */
  keyless: boolean;
}

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
export const q = (s: string): string => JSON.stringify(s);

const GO_TARGETS = ['linux_amd64', 'linux_arm64', 'darwin_amd64', 'darwin_arm64', 'windows_amd64'];

/** The build ids whose Linux binaries an image can take. */
export function nativeBuildIds(info: ProjectInfo): string[] {
  return [...(info.go?.mains.map((m) => m.binary) ?? []), ...(info.cargo ? [info.cargo.binary] : [])];
}

function nodeBuild(info: ProjectInfo): string[] {
  return [
    '  # The npm tarball, made once by `npm pack` (which runs the package\'s `prepare`',
    '  # script first). It does not depend on the platform, hence the one target',
    '  # `node_all`. Its contents keep package.json\'s version; the file name takes the',
    '  # release version.',
    '  - id: npm',
    `    cmd: [sh, -c, ${q('set -e; t="$(mktemp -d)"; npm pack --silent --pack-destination "$t" >/dev/null; mv "$t"/*.tgz "$RELSIGN_OUTPUT"; rmdir "$t"')}]`,
    '    targets: [node_all]',
    `    binary: ${q('{{ .ProjectName }}-{{ .Version }}.tgz')}`,
    '    # straight into dist/, next to the checksums file',
    `    output: ${q('{{ .Binary }}')}`,
  ];
}

function goBuilds(info: ProjectInfo): string[] {
  const out: string[] = [
    '  # `go build` once per target; relsign sets GOOS/GOARCH (GOARM) and',
    '  # RELSIGN_OUTPUT, the path the binary must be written to.',
  ];
  for (const m of info.go!.mains) {
    out.push(
      `  - id: ${m.binary}`,
      '    cmd:',
      '      - go',
      '      - build',
      '      - -trimpath',
      `      - ${q('-ldflags=-s -w -X main.version={{ .Version }} -X main.commit={{ .FullCommit }} -X main.date={{ .CommitDate }}')}`,
      '      - -o',
      `      - ${q('{{ .Env.RELSIGN_OUTPUT }}')}`,
      `      - ${m.pkg}`,
      '    env: [CGO_ENABLED=0]',
      `    targets: [${GO_TARGETS.join(', ')}]`,
      `    binary: ${m.binary}`,
    );
  }
  return out;
}

function cargoBuild(info: ProjectInfo): string[] {
  const bin = info.cargo!.binary;
  return [
    '  # cargo builds for the machine it runs on; add targets with `cross` or',
    '  # `cargo build --target` and copy target/<triple>/release/<bin> to $RELSIGN_OUTPUT.',
    `  - id: ${bin}`,
    `    cmd: [sh, -c, ${q(`set -e; cargo build --release --locked; cp target/release/${bin} "$RELSIGN_OUTPUT"`)}]`,
    '    targets: [linux_amd64]',
    `    binary: ${bin}`,
  ];
}

function makeBuild(info: ProjectInfo): string[] {
  return [
    `  # \`make ${info.make!.target}\` must write the binary to $RELSIGN_OUTPUT (relsign also`,
    '  # sets GOOS/GOARCH and RELSIGN_OS/RELSIGN_ARCH for the target).',
    `  - id: ${info.name}`,
    `    cmd: [make, ${info.make!.target}]`,
    '    targets: [linux_amd64]',
    `    binary: ${info.name}`,
  ];
}

/** The repository part of an image reference's host, when it names one (`ghcr.io/acme/tool` → `ghcr.io`). */
export function registryHost(image: string): string {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/**
 * A commented relsign.config.yaml for the detected project: builds for what is
 * there, archives, a source archive, checksums, signatures, changelog, release.
 */
export function renderConfig(info: ProjectInfo, o: InitOptions): string {
  const lines: string[] = [];
  const builds: string[] = [];
  if (info.go) builds.push(...goBuilds(info));
  if (info.cargo) builds.push(...cargoBuild(info));
  if (info.node) builds.push(...nodeBuild(info));
  if (info.make) builds.push(...makeBuild(info));
  const native = nativeBuildIds(info);
  const found = [
    info.node ? `a Node.js package with "bin" (${info.node.bins.join(', ')})` : '',
    info.go ? `Go main packages (${info.go.mains.map((m) => m.pkg).join(', ')})` : '',
    info.cargo ? `a Cargo binary (${info.cargo.binary})` : '',
    info.make ? `a Makefile target (${info.make.target})` : '',
  ].filter(Boolean);

  lines.push(
    info.node ? '# yaml-language-server: $schema=./node_modules/relsign/schema/relsign.schema.json' : '# yaml-language-server: $schema=https://unpkg.com/relsign/schema/relsign.schema.json',
    '#',
    `# Written by \`relsign init\` for ${found.length ? found.join(' and ') : 'a project with nothing to build (source archive only)'}.`,
    '# Check it:  npx relsign check',
    '# Try it:    npx relsign release --snapshot --clean   (no tag, secrets or network needed)',
    '# Release:   push a tag (git tag v1.2.3 && git push origin v1.2.3); CI runs',
    '#            `npx relsign release --clean`. Every key is described in',
    '#            node_modules/relsign/docs/configuration.md.',
    'version: 2',
    `project_name: ${info.name}`,
    '',
  );
  if (builds.length > 0) lines.push('builds:', ...builds, '');

  if (native.length > 0) {
    lines.push(
      'archives:',
      '  # One archive per target with the binaries and these files; zip for Windows.',
      '  - id: default',
      `    ids: [${native.join(', ')}]`,
      '    formats: [tar.gz]',
      '    format_overrides:',
      '      - goos: windows',
      '        formats: [zip]',
    );
    if (info.extraFiles.length > 0) lines.push('    files:', ...info.extraFiles.map((f) => `      - ${q(f)}`));
  }
  if (info.node) {
    if (native.length === 0) lines.push('archives:');
    lines.push('  # The npm tarball is published as it is.', '  - id: npm', '    ids: [npm]', '    formats: [binary]', `    name_template: ${q('{{ .Binary }}')}`);
  }
  if (native.length > 0 || info.node) lines.push('');

  lines.push(
    '# A .tar.gz of the tagged commit (git archive).',
    'source:',
    '  enabled: true',
    `  prefix_template: ${q('{{ .ProjectName }}-{{ .Version }}/')}`,
    '',
    'checksum:',
    `  name_template: ${q('{{ .ProjectName }}_{{ .Version }}_checksums.txt')}`,
    '  algorithm: sha256',
    '',
  );

  if (o.image) {
    lines.push(
      '# An OCI image of the Linux binaries, built without a Docker daemon. A snapshot',
      '# writes it to dist/images/ only; a release pushes it (CI logs in to the registry).',
      'images:',
      '  - id: default',
      `    ids: [${native.join(', ')}]`,
      `    repository: ${q(o.image)}`,
      `    tags: [${q('{{ .Version }}')}, latest]`,
      '    platforms: [linux/amd64, linux/arm64]',
      '',
    );
  } else if (info.dockerfile && native.length > 0) {
    lines.push(
      '# relsign builds OCI images from the Linux binaries without a Docker daemon',
      '# (your Dockerfile is not used). To publish one, run `relsign init --image',
      '# ghcr.io/OWNER/NAME --force`, or add:',
      '# images:',
      '#   - id: default',
      `#     ids: [${native.join(', ')}]`,
      '#     repository: ghcr.io/OWNER/NAME',
      '',
    );
  }

  if (o.keyless) {
    lines.push(
      '# Keyless signing with cosign: the CI job\'s OIDC identity gets a short-lived',
      '# certificate from Sigstore; each artifact gets a .sigstore.json bundle.',
      '# Needs the cosign binary in CI (the workflow installs it).',
      'signs:',
      '  - id: cosign',
      '    signer: cmd',
      '    cmd: cosign',
      `    args: [sign-blob, ${q('--bundle=${signature}')}, ${q('${artifact}')}, --yes]`,
      `    signature: ${q('${artifact}.sigstore.json')}`,
      '    artifacts: all',
    );
  } else {
    lines.push(
      '# Signed in-process, cosign-compatible: `cosign verify-blob --key cosign.pub',
      '# --signature X.sig X` accepts every signature. Make the key pair once with',
      '# `npx relsign generate-key-pair github://OWNER/REPO` (stores COSIGN_PRIVATE_KEY',
      '# and COSIGN_PASSWORD as Actions secrets) and publish cosign.pub. Without a key',
      '# (a snapshot), relsign signs with a throw-away key: dist/relsign-ephemeral.pub.',
      'signs:',
      '  - id: cosign',
      '    signer: builtin',
      '    key: env://COSIGN_PRIVATE_KEY',
      '    artifacts: all',
      `    signature: ${q('${artifact}.sig')}`,
    );
  }
  if (o.image) {
    lines.push(
      '',
      'docker_signs:',
      '  # Signs the pushed image by digest; the signature goes to the registry.',
      '  - id: images',
      ...(o.keyless
        ? ['    signer: cmd', '    cmd: cosign', `    args: [sign, ${q('${artifact}@${digest}')}, --yes]`]
        : ['    signer: builtin', '    key: env://COSIGN_PRIVATE_KEY']),
      '    artifacts: all',
    );
  }
  lines.push(
    '',
    'changelog:',
    '  sort: asc',
    '  filters:',
    `    exclude: [${q('^docs:')}, ${q('^test:')}, ${q('^chore:')}]`,
    '',
    '# The GitHub Release of the tag: created as a draft, every asset uploaded and',
    '# checked, then published. owner/name default to the git remote `origin`.',
    'release:',
    '  draft: false',
    '  prerelease: auto',
    '',
  );
  return lines.join('\n');
}
