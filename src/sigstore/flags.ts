import { Option, type Command } from 'commander';
import { UsageError } from '../util/errors.js';

function parseBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 't'].includes(v)) return true;
  if (['false', '0', 'f'].includes(v)) return false;
  throw new UsageError(`--${name}: invalid boolean ${JSON.stringify(value)} (use --${name}=true or --${name}=false)`);
}

/** Rewrites `--name=true|false` into `--name` / `--no-name` for the given boolean flags. */
export function normalizeBoolArgs(args: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const m = /^--([a-z0-9-]+)=(.*)$/s.exec(arg);
    if (m && names.includes(m[1]!)) out.push(parseBool(m[1]!, m[2]!) ? `--${m[1]}` : `--no-${m[1]}`);
    else out.push(arg);
  }
  return out;
}

/**
 * Makes boolean flags behave like cobra's (cosign's): `--flag`, `--flag=true`,
 * `--flag=false` all work, and a bare `--flag` never swallows the next
 * argument. Declare each as `--name` plus `--no-name` on `cmd`.
 */
export function goStyleBools(cmd: Command, names: readonly string[]): Command {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv: string[]) => parse(normalizeBoolArgs(argv, names));
  return cmd;
}

/**
 * The flags `sign-blob` and `sign` share for the transparency log and keyless
 * signing (cosign's names): --tlog-upload, --yes, --identity-token,
 * --fulcio-url, --rekor-url, --timestamp-server-url, --timeout.
 */
export function addSigstoreServiceOptions(cmd: Command): Command {
  return cmd
    .option('--tlog-upload', 'record the signature in the Rekor transparency log (default true; --tlog-upload=false signs offline, key only)', true)
    .addOption(new Option('--no-tlog-upload').hideHelp())
    .option('-y, --yes', 'agree to the transparency log upload without a prompt', false)
    .addOption(new Option('--no-yes').hideHelp())
    .option('--identity-token <token>', 'keyless: OIDC identity token, or a file holding it (default: SIGSTORE_ID_TOKEN, or the GitHub Actions token)')
    .option('--fulcio-url <url>', 'keyless: Fulcio (default: RELSIGN_FULCIO_URL, else the public-good signing config)')
    .option('--rekor-url <url>', 'Rekor transparency log (default: RELSIGN_REKOR_URL, else the public-good signing config)')
    .option('--timestamp-server-url <url>', 'RFC 3161 timestamp authority (default: RELSIGN_TSA_URL, else none)')
    .option('--timeout <duration>', 'per-request timeout for Fulcio, Rekor, the TSA and the OIDC endpoint (default 30s; each is retried 3 times)');
}
