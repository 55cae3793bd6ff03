import { parse } from 'yaml';
import { registryHost, type InitOptions } from './config.js';
import { relsignCommand } from './ci.js';
import type { ProjectInfo } from './detect.js';

/** One split job of the matrix: a runner and the targets it builds. */
export interface SplitJob {
  id: string;
  runner: string;
  targets: string[];
}

/**
 * Which GitHub-hosted runner builds a target: macOS targets on macOS (code
 * signing and notarising need it), Windows on Windows, Linux arm on the arm
 * runner, everything else on ubuntu-latest.
 */
export function runnerFor(target: string): string {
  const [os = '', arch = ''] = target.split('_');
  if (os === 'darwin') return 'macos-latest';
  if (os === 'windows') return 'windows-latest';
  if (os === 'linux' && (arch === 'arm64' || arch === 'arm')) return 'ubuntu-24.04-arm';
  return 'ubuntu-latest';
}

/** The targets a config text lists under builds[].targets, in order, once each. */
export function configTargets(configText: string): string[] {
  const doc = parse(configText, { maxAliasCount: 100 }) as { builds?: Array<{ targets?: unknown }> } | null;
  const out: string[] = [];
  for (const b of Array.isArray(doc?.builds) ? doc.builds : []) {
    for (const t of Array.isArray(b?.targets) ? b.targets : []) if (typeof t === 'string' && !out.includes(t)) out.push(t);
  }
  return out;
}

/** Groups targets by runner, in runner order; the runner's name makes the split id. */
export function splitJobs(targets: readonly string[]): SplitJob[] {
  const order = ['ubuntu-latest', 'ubuntu-24.04-arm', 'macos-latest', 'windows-latest'];
  const jobs = new Map<string, string[]>();
  for (const t of targets) {
    const r = runnerFor(t);
    jobs.set(r, [...(jobs.get(r) ?? []), t]);
  }
  return order.filter((r) => jobs.has(r)).map((runner) => ({ id: runner.replace(/[^A-Za-z0-9._-]/g, '-'), runner, targets: jobs.get(runner)!.sort() }));
}

/**
 * .github/workflows/release.yml for split releases: a matrix job per runner
 * runs `relsign release --split` for its targets with read-only permissions
 * and no secrets, and uploads its dist/ part; one merge job downloads every
 * part into dist/ and runs `relsign continue --merge`, the only job that sees
 * the signing key and the release token.
 */
export function githubSplitWorkflow(info: ProjectInfo, o: InitOptions, version: string, targets: readonly string[]): string {
  const jobs = splitJobs(targets.length > 0 ? targets : ['linux_amd64']);
  const ghcr = o.image !== undefined && registryHost(o.image) === 'ghcr.io';
  const toolchain: string[] = [
    '      - uses: actions/checkout@v5',
    '        with:',
    '          fetch-depth: 0 # all history and tags: version, commit and changelog',
    '      - uses: actions/setup-node@v5',
    '        with:',
    '          node-version: 22',
    ...(info.node?.hasLock ? ['          cache: npm'] : []),
    ...(info.go ? ['      - uses: actions/setup-go@v5', '        with:', '          go-version-file: go.mod'] : []),
    ...(info.cargo ? ['      - uses: dtolnay/rust-toolchain@stable'] : []),
    ...(info.node ? [`      - run: ${info.node.hasLock ? 'npm ci' : 'npm install'}`] : []),
  ];
  const matrix = jobs.flatMap((j) => [`          - runner: ${j.runner}`, `            id: ${j.id}`, `            targets: ${j.targets.join(',')}`]);
  const mergePerms = ['      contents: write # create the release and upload its assets'];
  if (ghcr) mergePerms.push('      packages: write # push the image to ghcr.io');
  if (o.keyless) mergePerms.push('      id-token: write # OIDC token for keyless signing');
  const login: string[] = [];
  if (o.image) {
    const host = registryHost(o.image);
    login.push(
      '      - uses: docker/login-action@v3',
      '        with:',
      ...(host === 'docker.io' ? [] : [`          registry: ${host}`]),
      ...(ghcr
        ? ['          username: ${{ github.actor }}', '          password: ${{ secrets.GITHUB_TOKEN }}']
        : ['          username: ${{ secrets.REGISTRY_USERNAME }}', '          password: ${{ secrets.REGISTRY_PASSWORD }}']),
    );
  }
  return [
    '# Written by `relsign init --github --split`: when a tag v* is pushed, each',
    '# runner builds and archives its targets (`relsign release --split`, no',
    '# secrets), then one job checks and merges the parts, signs and publishes',
    '# (`relsign continue --merge`).' + (o.keyless ? '' : ' Secrets: COSIGN_PRIVATE_KEY, COSIGN_PASSWORD'),
    ...(o.keyless ? [] : ['# (`npx relsign generate-key-pair github://OWNER/REPO` stores both).']),
    '# Re-running only the failed merge job resumes the release.',
    'name: release',
    '',
    'on:',
    '  push:',
    '    tags: ["v*"]',
    '',
    'permissions:',
    '  contents: read',
    '',
    'defaults:',
    '  run:',
    '    shell: bash # the same commands on Linux, macOS and Windows runners',
    '',
    'jobs:',
    '  split:',
    '    strategy:',
    '      fail-fast: true',
    '      matrix:',
    '        include:',
    ...matrix,
    '    runs-on: ${{ matrix.runner }}',
    '    steps:',
    ...toolchain,
    `      - run: ${relsignCommand(info, version, 'release --split --targets ${{ matrix.targets }} --split-id ${{ matrix.id }}')}`,
    '      - uses: actions/upload-artifact@v4',
    '        with:',
    '          name: relsign-part-${{ matrix.id }}',
    '          path: dist/',
    '          if-no-files-found: error',
    '          retention-days: 3',
    '',
    '  merge:',
    '    needs: split',
    '    runs-on: ubuntu-latest',
    '    permissions:',
    ...mergePerms,
    '    steps:',
    ...toolchain,
    ...(o.keyless ? ['      - uses: sigstore/cosign-installer@v3'] : []),
    '      - uses: actions/download-artifact@v4',
    '        with:',
    '          pattern: relsign-part-*',
    '          merge-multiple: true # every part lands in dist/<split-id>/',
    '          path: dist/',
    ...login,
    `      - run: ${relsignCommand(info, version, 'continue --merge')}`,
    '        env:',
    '          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}',
    ...(o.keyless ? [] : ['          COSIGN_PRIVATE_KEY: ${{ secrets.COSIGN_PRIVATE_KEY }}', '          COSIGN_PASSWORD: ${{ secrets.COSIGN_PASSWORD }}']),
    '',
  ].join('\n');
}
