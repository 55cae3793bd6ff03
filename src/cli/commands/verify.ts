import { Option, type Command } from 'commander';
import { goStyleBools } from '../../sigstore/flags.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .description("verify an image's signatures (both cosign layouts) with a public key or keylessly; prints the verified payloads as JSON")
    .argument('<image>', 'image reference: host/repo:tag or host/repo@sha256:…')
    .option('--key <ref>', 'public key: a path or env://VAR')
    .option('-a, --annotations <key=value>', 'require this annotation in the signed payload (repeatable)', collect)
    .option('--certificate-identity <identity>', 'keyless: the identity the signing certificate must name')
    .option('--certificate-identity-regexp <re2>', 'keyless: a Go RE2 regexp the identity must match (unanchored: use ^…$)')
    .option('--certificate-oidc-issuer <url>', 'keyless: the OIDC issuer the certificate must name')
    .option('--certificate-oidc-issuer-regexp <re2>', 'keyless: a Go RE2 regexp the OIDC issuer must match (unanchored)')
    .option('--trusted-root <file>', 'Sigstore trusted_root.json to verify against (default: the public-good root, through TUF, cached)')
    .option('--insecure-ignore-tlog', 'skip transparency-log verification (with --key: check the key signature only)', false)
    .addOption(new Option('--no-insecure-ignore-tlog').hideHelp())
    .option('--allow-insecure-registry', 'allow plain HTTP to this registry (loopback always is)', false)
    .addOption(new Option('--no-allow-insecure-registry').hideHelp())
    .addOption(new Option('--allow-http-registry', 'alias of --allow-insecure-registry').default(false).hideHelp())
    .addOption(new Option('--no-allow-http-registry').hideHelp())
    .action(async (image: string, flags: import('../../oci/cli.js').VerifyImageFlags) => {
      const { runVerifyImage } = await import('../../oci/cli.js');
      await runVerifyImage(image, flags);
    });
  goStyleBools(cmd, ['insecure-ignore-tlog', 'allow-insecure-registry', 'allow-http-registry']);
}
