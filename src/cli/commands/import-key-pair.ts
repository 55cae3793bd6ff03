import type { Command } from 'commander';

export function registerImportKeyPair(program: Command): void {
  program
    .command('import-key-pair')
    .description('encrypt an existing PEM private key (EC P-256/384/521, RSA, Ed25519) into the cosign key format')
    .requiredOption('-k, --key <file>', 'unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1)')
    .option('--output-key-prefix <prefix>', 'write <prefix>.key and <prefix>.pub', 'import-cosign')
    .option('-f, --force', 'overwrite existing key files', false)
    .action(async (flags: { key: string; outputKeyPrefix: string; force: boolean }) => {
      const { runImportKeyPair } = await import('../../sigstore/cli.js');
      await runImportKeyPair(flags);
    });
}
