import { parse } from 'yaml';
import { registryHost, type InitOptions } from './config.js';
import { GITHUB_TRIGGER, githubLoginSteps, githubToolchainSteps, keySecretsNote, relsignCommand } from './ci.js';
import type { ProjectInfo } from './detect.js';

/** One split job of the matrix: a runner and the targets it builds. */
export interface SplitJob {
  id: string;
  runner: string;
  targets: string[];
}

/** CI systems whose hosted runners a split workflow names. */
export type SplitCi = 'github' | 'gitlab';

/**
 * Hosted runners per kind of target, in job order: macOS targets on macOS
 * (code signing and notarising need it), Windows on Windows, Linux arm on
 * arm, everything else on the amd64 Linux runner. GitLab names its SaaS
 * runners by tag.
 */
const RUNNERS: Record<SplitCi, { linux: string; linuxArm: string; macos: string; windows: string }> = {
  github: { linux: 'ubuntu-latest', linuxArm: 'ubuntu-24.04-arm', macos: 'macos-latest', windows: 'windows-latest' },
  gitlab: { linux: 'saas-linux-small-amd64', linuxArm: 'saas-linux-small-arm64', macos: 'saas-macos-medium-m1', windows: 'saas-windows-medium-amd64' },
};

/** Which hosted runner builds a target. */
export function runnerFor(target: string, ci: SplitCi = 'github'): string {
  const r = RUNNERS[ci];
  const [os = '', arch = ''] = target.split('_');
  if (os === 'darwin') return r.macos;
  if (os === 'windows') return r.windows;
  if (os === 'linux' && (arch === 'arm64' || arch === 'arm')) return r.linuxArm;
  return r.linux;
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
export function splitJobs(targets: readonly string[], ci: SplitCi = 'github'): SplitJob[] {
  const r = RUNNERS[ci];
  const order = [r.linux, r.linuxArm, r.macos, r.windows];
  const jobs = new Map<string, string[]>();
  for (const t of targets) {
    const runner = runnerFor(t, ci);
    jobs.set(runner, [...(jobs.get(runner) ?? []), t]);
  }
  return order.filter((x) => jobs.has(x)).map((runner) => ({ id: runner.replace(/[^A-Za-z0-9._-]/g, '-'), runner, targets: jobs.get(runner)!.sort() }));
}

/** Platforms of the image `relsign init --image` configures: the split jobs building their targets push them. */
const IMAGE_TARGETS = ['linux_amd64', 'linux_arm64'];
/** Whether a split job builds image platforms (and so needs the registry login). */
export function jobPushesImages(job: SplitJob, o: InitOptions): boolean {
  return o.image !== undefined && job.targets.some((t) => IMAGE_TARGETS.includes(t));
}

/**
 * .github/workflows/release.yml for split releases: a matrix job per runner
 * runs `relsign release --split` for its targets with read-only permissions
 * and no signing secret, and uploads its dist/ part; the runners that build
 * image platforms log in to the registry and push them by digest. One merge
 * job downloads every part into dist/ and runs `relsign continue --merge`,
 * the only job that sees the signing key and the release token.
 */
export function githubSplitWorkflow(info: ProjectInfo, o: InitOptions, version: string, targets: readonly string[]): string {
  const jobs = splitJobs(targets.length > 0 ? targets : ['linux_amd64']);
  const ghcr = o.image !== undefined && registryHost(o.image) === 'ghcr.io';
  const images = jobs.some((j) => jobPushesImages(j, o));
  const toolchain = githubToolchainSteps(info, 'version, commit and changelog');
  const matrix = jobs.flatMap((j) => [
    `          - runner: ${j.runner}`,
    `            id: ${j.id}`,
    `            targets: ${j.targets.join(',')}`,
    ...(images ? [`            images: ${jobPushesImages(j, o)}`] : []),
  ]);
  const mergePerms = ['      contents: write # create the release and upload its assets'];
  if (ghcr) mergePerms.push('      packages: write # push the image index and tags to ghcr.io');
  if (o.keyless) mergePerms.push('      id-token: write # OIDC token for keyless signing');
  return [
    '# Written by `relsign init --github --split`: when a tag v* is pushed, each',
    '# runner builds and archives its targets (`relsign release --split`, no',
    ...(images
      ? ['# signing secret; the runners building image platforms push them by digest),', '# then one job checks and merges the parts, signs and publishes']
      : ['# secrets), then one job checks and merges the parts, signs and publishes']),
    ...keySecretsNote(o, '# (`relsign continue --merge`).'),
    '# Re-running only the failed merge job resumes the release.',
    ...GITHUB_TRIGGER,
    'permissions:',
    '  contents: read',
    '',
    'defaults:',
    '  run:',
    '    shell: bash # the same commands on Linux, macOS and Windows runners',
    '',
    'jobs:',
    '  split:',
    ...(images && ghcr ? ['    permissions:', '      contents: read', '      packages: write # push image platforms to ghcr.io by digest'] : []),
    '    strategy:',
    '      fail-fast: true',
    '      matrix:',
    '        include:',
    ...matrix,
    '    runs-on: ${{ matrix.runner }}',
    '    steps:',
    ...toolchain,
    ...(images && o.image ? githubLoginSteps(o.image, 'matrix.images') : []),
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
    ...(o.image ? githubLoginSteps(o.image) : []),
    `      - run: ${relsignCommand(info, version, 'continue --merge')}`,
    '        env:',
    '          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}',
    ...(o.keyless ? [] : ['          COSIGN_PRIVATE_KEY: ${{ secrets.COSIGN_PRIVATE_KEY }}', '          COSIGN_PASSWORD: ${{ secrets.COSIGN_PASSWORD }}']),
    '',
  ].join('\n');
}

/** A YAML single-quoted scalar: nothing in it is read as YAML syntax. */
function yq(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * A POSIX shell line writing the Docker config relsign reads its registry
 * login from. GitLab's own registry takes the job's predefined
 * CI_REGISTRY_USER/CI_REGISTRY_PASSWORD; any other, REGISTRY_USER and
 * REGISTRY_PASSWORD (masked CI/CD variables).
 */
function gitlabLogin(image: string): string {
  const host = registryHost(image);
  const gitlab = host === 'registry.gitlab.com';
  const user = gitlab ? '$CI_REGISTRY_USER' : '$REGISTRY_USER';
  const pass = gitlab ? '$CI_REGISTRY_PASSWORD' : '$REGISTRY_PASSWORD';
  const key = host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
  return `mkdir -p "$HOME/.docker" && printf '{"auths":{"%s":{"auth":"%s"}}}' "${key}" "$(printf '%s:%s' "${user}" "${pass}" | base64 | tr -d '\\n')" > "$HOME/.docker/config.json"`;
}

/**
 * .gitlab-ci.yml for split releases: a `parallel:matrix` job builds each
 * runner's targets (`relsign release --split`) on GitLab's hosted runners
 * (picked by tag), Windows in a job of its own (its runners run PowerShell),
 * and keeps dist/ as job artifacts; a merge job that `needs:` them gets
 * every part in dist/ and runs `relsign continue --merge`. Its
 * `environment:` is what lets the signing variables be scoped to it alone.
 */
export function gitlabSplitPipeline(info: ProjectInfo, o: InitOptions, version: string, targets: readonly string[]): string {
  const jobs = splitJobs(targets.length > 0 ? targets : ['linux_amd64'], 'gitlab');
  const posix = jobs.filter((j) => j.runner !== RUNNERS.gitlab.windows);
  const windows = jobs.find((j) => j.runner === RUNNERS.gitlab.windows);
  const images = jobs.some((j) => jobPushesImages(j, o));
  const linuxImage = info.go ? 'golang:1' : info.cargo ? 'rust:1' : 'node:22';
  const imageFor = (j: SplitJob): string => (j.runner === RUNNERS.gitlab.macos ? 'macos-14-xcode-15' : linuxImage);
  const install = info.node ? [`    - ${info.node.hasLock ? 'npm ci' : 'npm install'}`] : [];
  const common = (stage: string): string[] => [
    `  stage: ${stage}`,
    '  rules:',
    '    - if: $CI_COMMIT_TAG',
    '  variables:',
    '    GIT_DEPTH: 0 # all history and tags: version, commit and changelog',
  ];
  const artifacts = (expire: boolean): string[] => ['  artifacts:', '    paths:', '      - dist/', ...(expire ? ['    expire_in: 3 days'] : [])];
  const lines: string[] = [
    '# Written by `relsign init --gitlab --split`: on a pushed tag, each runner',
    '# builds and archives its targets (`relsign release --split`, no signing',
    ...(images ? ['# secret; the runners building image platforms push them by digest), then', '# one job checks and merges the parts'] : ['# secret), then one job checks and merges the parts']),
    '# and signs (`relsign continue --merge`). Scope COSIGN_PRIVATE_KEY and',
    '# COSIGN_PASSWORD (masked, protected) to the environment `release`: only the',
    '# merge job sees them. relsign publishes GitHub Releases only: to publish one',
    '# from here, add GITHUB_TOKEN the same way and drop `--skip publish`.',
    ...(images && o.image && registryHost(o.image) !== 'registry.gitlab.com'
      ? ['# Registry login: REGISTRY_USER and REGISTRY_PASSWORD (masked, protected).']
      : []),
    '',
  ];
  if (posix.length > 0) {
    lines.push(
      'relsign-split:',
      ...common('build'),
      '  parallel:',
      '    matrix:',
      ...posix.flatMap((j) => [
        `      - RUNNER: ${j.runner}`,
        `        IMAGE: ${yq(imageFor(j))}`,
        `        SPLIT_ID: ${j.id}`,
        `        TARGETS: ${yq(j.targets.join(','))}`,
        ...(images ? [`        PUSH_IMAGES: ${yq(String(jobPushesImages(j, o)))}`] : []),
      ]),
      '  tags:',
      '    - $RUNNER',
      '  image: $IMAGE # macOS runners take a macOS image; Linux ones a container image',
      '  script:',
      ...(linuxImage !== 'node:22' ? ['    - command -v node >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null)'] : []),
      ...install,
      ...(images && o.image ? [`    - ${yq(`if [ "$PUSH_IMAGES" = true ]; then ${gitlabLogin(o.image)}; fi`)}`] : []),
      `    - ${yq(relsignCommand(info, version, 'release --split --targets "$TARGETS" --split-id "$SPLIT_ID"'))}`,
      ...artifacts(true),
      '',
    );
  }
  if (windows) {
    lines.push(
      '# Windows runners run PowerShell: this job names its targets itself.',
      'relsign-split-windows:',
      ...common('build'),
      '  tags:',
      `    - ${windows.runner}`,
      '  script:',
      ...install,
      `    - ${yq(relsignCommand(info, version, `release --split --targets "${windows.targets.join(',')}" --split-id ${windows.id}`))}`,
      ...artifacts(true),
      '',
    );
  }
  const needs = [...(posix.length > 0 ? ['relsign-split'] : []), ...(windows ? ['relsign-split-windows'] : [])];
  lines.push(
    'relsign-merge:',
    ...common('deploy'),
    '  image: node:22',
    '  environment: release # the signing variables are scoped to it',
    '  needs:',
    ...needs.flatMap((n) => [`    - job: ${n}`, '      artifacts: true # every part lands in dist/<split-id>/']),
  );
  if (o.keyless) lines.push('  id_tokens:', '    SIGSTORE_ID_TOKEN: # read by cosign for keyless signing', '      aud: sigstore');
  lines.push(
    '  script:',
    ...(o.keyless ? ['    # cosign must be on PATH: install it here (https://docs.sigstore.dev/cosign/system_config/installation/)'] : []),
    ...install,
    ...(o.image ? [`    - ${yq(gitlabLogin(o.image))}`] : []),
    `    - ${relsignCommand(info, version, 'continue --merge --skip publish')}`,
    ...artifacts(false),
    '',
  );
  return lines.join('\n');
}
