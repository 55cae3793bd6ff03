import { Option, type Command } from 'commander';
import { goStyleBools } from '../../sigstore/flags.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .description("verify an image's signatures (both cosign layouts) with a public key; prints the verified payloads as JSON")
    .argument('<image>', 'image reference: host/repo:tag or host/repo@sha256:…')
    .option('--key <ref>', 'public key: a path or env://VAR')
    .option('-a, --annotations <key=value>', 'require this annotation in the signed payload (repeatable)', collect)
    .option('--insecure-ignore-tlog', 'check the key signature only (relsign checks no transparency log for images)', false)
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
