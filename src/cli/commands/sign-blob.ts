import { Option, type Command } from 'commander';
import { addSigstoreServiceOptions, goStyleBools } from '../../sigstore/flags.js';

export function registerSignBlob(program: Command): void {
  const cmd = program
    .command('sign-blob')
    .description('sign a file with a cosign key, or keyless without --key (prints the base64 signature unless --output-signature / --new-bundle-format)')
    .argument('<file>', 'file to sign ("-" for stdin)')
    .option('--key <ref>', 'private key: a path or env://VAR (password from COSIGN_PASSWORD or a prompt); without it, sign keyless')
    .option('--output-signature <file>', 'write the base64 signature to this file instead of stdout')
    .addOption(new Option('--output <file>', 'deprecated alias of --output-signature').hideHelp())
    .option('--output-certificate <file>', 'keyless: write the Fulcio certificate (base64 of the PEM, PEM with --b64=false)')
    .option('--bundle <file>', 'write a bundle: cosign legacy JSON, or a Sigstore v0.3 bundle with --new-bundle-format')
    .option('--new-bundle-format', 'write --bundle as a Sigstore bundle v0.3 (also --new-bundle-format=true|false)', false)
    .addOption(new Option('--no-new-bundle-format').hideHelp())
    .option('--b64', 'base64-encode the signature output; --b64=false writes raw DER', true)
    .addOption(new Option('--no-b64').hideHelp());
  addSigstoreServiceOptions(cmd)
    .action(async (file: string, flags: import('../../sigstore/cli.js').SignBlobFlags) => {
      const { runSignBlob } = await import('../../sigstore/cli.js');
      await runSignBlob(file, flags);
    });
  goStyleBools(cmd, ['new-bundle-format', 'tlog-upload', 'b64', 'yes']);
}
