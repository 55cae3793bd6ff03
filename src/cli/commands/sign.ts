import { Option, type Command } from 'commander';
import { goStyleBools } from '../../sigstore/flags.js';

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
    .addOption(new Option('--no-allow-http-registry').hideHelp())
    .option('--tlog-upload', 'record the signature in the Rekor transparency log (default true; --tlog-upload=false: key only, offline)', true)
    .addOption(new Option('--no-tlog-upload').hideHelp())
    .option('-y, --yes', 'agree to the transparency log upload without a prompt', false)
    .addOption(new Option('--no-yes').hideHelp())
    .option('--identity-token <token>', 'keyless: OIDC identity token, or a file holding it (default: SIGSTORE_ID_TOKEN, or the GitHub Actions token)')
    .option('--fulcio-url <url>', 'keyless: Fulcio (default: RELSIGN_FULCIO_URL, else the public-good signing config)')
    .option('--rekor-url <url>', 'Rekor transparency log (default: RELSIGN_REKOR_URL, else the public-good signing config)')
    .option('--timestamp-server-url <url>', 'RFC 3161 timestamp authority (default: RELSIGN_TSA_URL, else none)')
    .option('--timeout <duration>', 'per-request timeout for Fulcio, Rekor, the TSA and the OIDC endpoint (default 30s; retried 3 times)')
    .action(async (image: string, flags: import('../../oci/cli.js').SignImageFlags) => {
      const { runSignImage } = await import('../../oci/cli.js');
      await runSignImage(image, flags);
    });
  goStyleBools(cmd, ['allow-insecure-registry', 'allow-http-registry', 'tlog-upload', 'yes']);
}
