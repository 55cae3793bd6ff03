import { Option, type Command } from 'commander';
import { goStyleBools } from '../../sigstore/flags.js';

export function registerVerifyRelease(program: Command): void {
  const cmd = program
    .command('verify-release')
    .description(
      'verify a whole release: its signed manifest, every asset against the manifest and the checksums file, every signature, nothing missing or unlisted, the images; one row per asset, then the verdict (exit 0 only when everything holds)',
    )
    .argument('<target>', 'OWNER/REPO@TAG (downloads the GitHub Release) or a folder of downloaded assets')
    .option('--key <ref>', 'public key: a path or env://VAR')
    .option('--certificate-identity <identity>', 'keyless: the identity the signing certificate must name')
    .option('--certificate-identity-regexp <re2>', 'keyless: a Go RE2 regexp the identity must match (unanchored: use ^…$)')
    .option('--certificate-oidc-issuer <url>', 'keyless: the OIDC issuer the certificate must name')
    .option('--certificate-oidc-issuer-regexp <re2>', 'keyless: a Go RE2 regexp the OIDC issuer must match (unanchored)')
    .option('--trusted-root <file>', 'Sigstore trusted_root.json to verify against (default: the public-good root, through TUF, cached)')
    .option('--insecure-ignore-tlog', 'skip transparency-log verification of bundles (with --key: check the signatures against the key only)', false)
    .addOption(new Option('--no-insecure-ignore-tlog').hideHelp())
    .option('--rekor-url <url>', 'accepted for cosign compatibility: log entries are verified offline, from the bundles, against the trusted root')
    .option('--github-url <url>', 'GitHub API root (GitHub Enterprise Server: https://HOST/api/v3)', 'https://api.github.com')
    .option('--manifest <name>', 'the manifest asset, when its name does not end in _manifest.json')
    .option('--allow-unsigned', 'report assets nothing verifies without failing the verdict', false)
    .addOption(new Option('--no-allow-unsigned').hideHelp())
    .option('--skip-images', 'do not verify the images the manifest lists (no registry is contacted)', false)
    .addOption(new Option('--no-skip-images').hideHelp())
    .option('--allow-insecure-registry', 'allow plain HTTP to the images\' registries (loopback always is)', false)
    .addOption(new Option('--no-allow-insecure-registry').hideHelp())
    .option('--json', 'print the report as one JSON document', false)
    .action(async (target: string, flags: import('../../verify-release/cli.js').VerifyReleaseFlags) => {
      const { runVerifyRelease } = await import('../../verify-release/cli.js');
      await runVerifyRelease(target, flags);
    });
  goStyleBools(cmd, ['insecure-ignore-tlog', 'allow-unsigned', 'skip-images', 'allow-insecure-registry']);
}
