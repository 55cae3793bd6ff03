import { Option, type Command } from 'commander';
import { addSigstoreServiceOptions, goStyleBools } from '../../sigstore/flags.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerSign(program: Command): void {
  const cmd = program
    .command('sign')
    .description('sign a pushed image (by tag or digest; the digest is signed) with a cosign key, or keyless without --key')
    .argument('<image>', 'image reference: host/repo:tag or host/repo@sha256:…')
    .option('--key <ref>', 'private key: a path or env://VAR (password from COSIGN_PASSWORD or a prompt); without it, sign keyless')
    .option('-a, --annotations <key=value>', 'extra key=value pairs signed into the payload (repeatable)', collect)
    .addOption(new Option('--storage <layout>', 'legacy (sha256-<hex>.sig tag, cosign v2), referrers (OCI 1.1 bundle, cosign v3) or both (default: legacy with --key, referrers keyless)'))
    .option('--allow-insecure-registry', 'allow plain HTTP to this registry (loopback always is)', false)
    .addOption(new Option('--no-allow-insecure-registry').hideHelp())
    .addOption(new Option('--allow-http-registry', 'alias of --allow-insecure-registry').default(false).hideHelp())
    .addOption(new Option('--no-allow-http-registry').hideHelp());
  addSigstoreServiceOptions(cmd)
    .action(async (image: string, flags: import('../../oci/cli.js').SignImageFlags) => {
      const { runSignImage } = await import('../../oci/cli.js');
      await runSignImage(image, flags);
    });
  goStyleBools(cmd, ['allow-insecure-registry', 'allow-http-registry', 'tlog-upload', 'yes']);
}
