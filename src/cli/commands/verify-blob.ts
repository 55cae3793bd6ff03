import { Option, type Command } from 'commander';
import { goStyleBools } from '../../sigstore/flags.js';

export function registerVerifyBlob(program: Command): void {
  const cmd = program
    .command('verify-blob')
    .description('verify a file against a cosign public key and a signature or bundle; prints "Verified OK"')
    .argument('<file>', 'the signed file')
    .option('--key <ref>', 'public key: a path or env://VAR')
    .option('--signature <file|base64>', 'detached signature: a file (base64 or raw) or the base64 text itself')
    .option('--bundle <file>', 'bundle from sign-blob --bundle (cosign legacy or Sigstore v0.1–v0.3)')
    .option('--insecure-ignore-tlog', 'check the key signature only; skip transparency-log verification', false)
    .addOption(new Option('--no-insecure-ignore-tlog').hideHelp())
    .option('--trusted-root <file>', "Sigstore trusted_root.json to check a bundle's transparency-log entry offline")
    .addOption(new Option('--new-bundle-format', 'accepted for cosign compatibility (the bundle format is detected)').default(false))
    .addOption(new Option('--no-new-bundle-format').hideHelp())
    .action(async (file: string, flags: import('../../sigstore/cli.js').VerifyBlobFlags) => {
      const { runVerifyBlob } = await import('../../sigstore/cli.js');
      await runVerifyBlob(file, flags);
    });
  goStyleBools(cmd, ['insecure-ignore-tlog', 'new-bundle-format']);
}
