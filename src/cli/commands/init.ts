import type { Command } from 'commander';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented relsign.config.yaml for this project, and CI workflows')
    .option('--github', 'also write .github/workflows/release.yml (runs on tag push)', false)
    .option('--split', 'with --github / --gitlab: a matrix workflow that builds on one runner per OS/arch, then merges, signs and publishes once', false)
    .option('--gitlab', 'also write the .gitlab-ci.yml release job', false)
    .option('--from <file>', 'convert a GoReleaser config (.goreleaser.yaml) instead of detecting the project')
    .option('--image <repository>', 'also build and push an OCI image, e.g. ghcr.io/OWNER/NAME')
    .option('--keyless', 'sign with cosign keyless (CI OIDC identity) instead of a key', false)
    .option('-o, --output <file>', 'config file to write', 'relsign.config.yaml')
    .option('--force', 'replace files that already exist', false)
    .action(async (flags: { github: boolean; gitlab: boolean; from?: string; image?: string; keyless: boolean; output: string; force: boolean }) => {
      const { runInit } = await import('../init/index.js');
      const { readFileSync } = await import('node:fs');
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
      await runInit(process.cwd(), flags, pkg.version, (line) => process.stdout.write(`${line}\n`));
    });
}
