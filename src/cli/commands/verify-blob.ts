import { Option, type Command } from 'commander';
import { goStyleBools } from '../../sigstore/flags.js';

export function registerVerifyBlob(program: Command): void {
  const cmd = program
    .command('verify-blob')
    .description('verify a file\'s signature or bundle, with a public key or keylessly (certificate identity and issuer); prints "Verified OK"')
    .argument('<file>', 'the signed file')
    .option('--key <ref>', 'public key: a path or env://VAR')
    .option('--signature <file|base64>', 'detached signature: a file (base64 or raw) or the base64 text itself')
    .option('--bundle <file>', 'bundle from sign-blob --bundle (cosign legacy or Sigstore v0.1–v0.3)')
    .option('--certificate-identity <identity>', "keyless: the identity the signing certificate must name (e.g. a workflow URL or an email)")
    .option('--certificate-identity-regexp <re2>', 'keyless: a Go RE2 regexp the identity must match (unanchored: use ^…$)')
    .option('--certificate-oidc-issuer <url>', 'keyless: the OIDC issuer the certificate must name (e.g. https://token.actions.githubusercontent.com)')
    .option('--certificate-oidc-issuer-regexp <re2>', 'keyless: a Go RE2 regexp the OIDC issuer must match (unanchored)')
    .option('--insecure-ignore-tlog', 'skip transparency-log verification (with --key: check the key signature only)', false)
    .addOption(new Option('--no-insecure-ignore-tlog').hideHelp())
    .option('--trusted-root <file>', 'Sigstore trusted_root.json to verify against (default: the public-good root, through TUF, cached)')
    .addOption(new Option('--new-bundle-format', 'accepted for cosign compatibility (the bundle format is detected)').default(false))
    .addOption(new Option('--no-new-bundle-format').hideHelp())
    .action(async (file: string, flags: import('../../sigstore/cli.js').VerifyBlobFlags) => {
      const { runVerifyBlob } = await import('../../sigstore/cli.js');
      await runVerifyBlob(file, flags);
    });
  goStyleBools(cmd, ['insecure-ignore-tlog', 'new-bundle-format']);
}
