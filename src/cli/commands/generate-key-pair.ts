import type { Command } from 'commander';

export function registerGenerateKeyPair(program: Command): void {
  program
    .command('generate-key-pair')
    .description('create a cosign-compatible ECDSA P-256 key pair (<prefix>.key encrypted with COSIGN_PASSWORD or a prompt, <prefix>.pub)')
    .option('--output-key-prefix <prefix>', 'write <prefix>.key and <prefix>.pub', 'cosign')
    .option('-f, --force', 'overwrite existing key files', false)
    .action(async (flags: { outputKeyPrefix: string; force: boolean }) => {
      const { runGenerateKeyPair } = await import('../../sigstore/cli.js');
      await runGenerateKeyPair(flags);
    });
}
