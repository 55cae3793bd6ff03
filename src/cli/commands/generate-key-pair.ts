import type { Command } from 'commander';

export function registerGenerateKeyPair(program: Command): void {
  program
    .command('generate-key-pair')
    .argument('[target]', 'github://OWNER/REPO: store the key pair and password as that repository\'s Actions secrets (needs GITHUB_TOKEN)')
    .description('create a cosign-compatible ECDSA P-256 key pair (<prefix>.key encrypted with COSIGN_PASSWORD or a prompt, <prefix>.pub)')
    .option('--output-key-prefix <prefix>', 'write <prefix>.key and <prefix>.pub', 'cosign')
    .option('-f, --force', 'overwrite existing key files', false)
    .action(async (target: string | undefined, flags: { outputKeyPrefix: string; force: boolean }) => {
      if (target !== undefined) {
        const { runGenerateKeyPairToGitHub } = await import('../generate-key-pair-github.js');
        return runGenerateKeyPairToGitHub(target, flags);
      }
      const { runGenerateKeyPair } = await import('../../sigstore/cli.js');
      await runGenerateKeyPair(flags);
    });
}
