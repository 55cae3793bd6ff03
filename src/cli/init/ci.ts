import { registryHost, type InitOptions } from './config.js';
import type { ProjectInfo } from './detect.js';

/** How CI runs relsign: the project's own devDependency, or the published package. */
export function relsignCommand(info: ProjectInfo, version: string, args: string): string {
  return info.node ? `npx relsign ${args}` : `npx --yes relsign@${version} ${args}`;
}

/** Comment lines naming the signing secrets a workflow reads (none for keyless). */
export function keySecretsNote(o: InitOptions, lead: string): string[] {
  return [
    lead + (o.keyless ? '' : ' Secrets: COSIGN_PRIVATE_KEY and COSIGN_PASSWORD'),
    ...(o.keyless ? [] : ['# (`npx relsign generate-key-pair github://OWNER/REPO` stores both).']),
  ];
}

/** `name:` and `on:` of a release workflow: a pushed tag v*. */
export const GITHUB_TRIGGER: readonly string[] = ['name: release', '', 'on:', '  push:', '    tags: ["v*"]', ''];

/** Checkout with the whole history (`why`: what needs it), Node, and the project's toolchains and dependencies. */
export function githubToolchainSteps(info: ProjectInfo, why: string): string[] {
  const steps: string[] = [
    '      - uses: actions/checkout@v5',
    '        with:',
    `          fetch-depth: 0 # all history and tags: ${why}`,
    '      - uses: actions/setup-node@v5',
    '        with:',
    '          node-version: 22',
  ];
  if (info.node?.hasLock) steps.push('          cache: npm');
  if (info.go) steps.push('      - uses: actions/setup-go@v5', '        with:', '          go-version-file: go.mod');
  if (info.cargo) steps.push('      - uses: dtolnay/rust-toolchain@stable');
  if (info.node) steps.push(`      - run: ${info.node.hasLock ? 'npm ci' : 'npm install'}`);
  return steps;
}

/** docker/login-action for the image's registry (ghcr.io with the job's token); `when`: an `if:` condition. */
export function githubLoginSteps(image: string, when?: string): string[] {
  const host = registryHost(image);
  return [
    '      - uses: docker/login-action@v3',
    ...(when ? [`        if: ${when}`] : []),
    '        with:',
    ...(host === 'docker.io' ? [] : [`          registry: ${host}`]),
    ...(host === 'ghcr.io'
      ? ['          username: ${{ github.actor }}', '          password: ${{ secrets.GITHUB_TOKEN }}']
      : ['          username: ${{ secrets.REGISTRY_USERNAME }}', '          password: ${{ secrets.REGISTRY_PASSWORD }}']),
  ];
}

/**
 * .github/workflows/release.yml: on a pushed tag, check out the full history
 * (the changelog needs the previous tag), set up the toolchains, log in to the
 * image registry when images are configured, and run `relsign release`.
 * Permissions are the least the run needs.
 */
export function githubWorkflow(info: ProjectInfo, o: InitOptions, version: string): string {
  const ghcr = o.image !== undefined && registryHost(o.image) === 'ghcr.io';
  const perms = ['  contents: write # create the release and upload its assets'];
  if (ghcr) perms.push('  packages: write # push the image to ghcr.io');
  if (o.keyless) perms.push('  id-token: write # OIDC token for keyless signing');
  const steps = githubToolchainSteps(info, 'the changelog starts at the previous tag');
  if (o.keyless) steps.push('      - uses: sigstore/cosign-installer@v3');
  if (o.image) steps.push(...githubLoginSteps(o.image));
  steps.push(
    `      - run: ${relsignCommand(info, version, 'release --clean')}`,
    '        env:',
    '          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}',
    ...(o.keyless ? [] : ['          COSIGN_PRIVATE_KEY: ${{ secrets.COSIGN_PRIVATE_KEY }}', '          COSIGN_PASSWORD: ${{ secrets.COSIGN_PASSWORD }}']),
  );
  return [
    '# Written by `relsign init --github`: publishes a signed GitHub Release when a',
    ...keySecretsNote(o, '# tag v* is pushed.'),
    ...GITHUB_TRIGGER,
    'permissions:',
    ...perms,
    '',
    'jobs:',
    '  release:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    ...steps,
    '',
  ].join('\n');
}

/**
 * The .gitlab-ci.yml job. relsign publishes GitHub Releases only, so on GitLab
 * it builds, checksums and signs, and keeps dist/ as the job's artifacts.
 */
export function gitlabJob(info: ProjectInfo, o: InitOptions, version: string): string {
  const image = info.go ? 'golang:1' : info.cargo ? 'rust:1' : 'node:22';
  const script: string[] = [];
  if (image !== 'node:22') script.push('    - apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null');
  if (info.node) script.push(`    - ${info.node.hasLock ? 'npm ci' : 'npm install'}`);
  script.push(`    - ${relsignCommand(info, version, 'release --clean --skip publish')}`);
  const lines = [
    '# Written by `relsign init --gitlab`: on a pushed tag, builds, checksums and',
    '# signs, and keeps dist/ as the job\'s artifacts. relsign publishes GitHub',
    '# Releases only: to publish one from here, set GITHUB_TOKEN (a masked CI/CD',
    '# variable) and release.github in the config, and drop `--skip publish`.',
    ...(o.keyless ? [] : ['# Set COSIGN_PRIVATE_KEY and COSIGN_PASSWORD as masked CI/CD variables.']),
    'relsign-release:',
    '  stage: deploy',
    `  image: ${image}`,
    '  rules:',
    '    - if: $CI_COMMIT_TAG',
    '  variables:',
    '    GIT_DEPTH: 0 # all history and tags: the changelog starts at the previous tag',
  ];
  if (o.keyless) {
    script.unshift('    # cosign must be on PATH: install it here (https://docs.sigstore.dev/cosign/system_config/installation/)');
    lines.push('  id_tokens:', '    SIGSTORE_ID_TOKEN: # read by cosign for keyless signing', '      aud: sigstore');
  }
  lines.push('  script:', ...script, '  artifacts:', '    paths:', '      - dist/', '');
  return lines.join('\n');
}

