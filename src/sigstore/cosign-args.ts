/**
 * cosign command lines as relsign understands them: one table of cosign's
 * flags for `sign-blob` and `sign`, used both to run a pasted `cmd: cosign`
 * entry in-process and by `relsign check` to name the flags relsign does not
 * implement. Parsing follows cobra: `--flag value`, `--flag=value`, `-a v`,
 * booleans as `--flag`, `--flag=true|false`.
 */

/** `yes`: relsign does it; `offline`: accepted, relsign works offline only (nothing is uploaded); `no`: not implemented. */
export type FlagSupport = 'yes' | 'offline' | 'no';

export interface CosignFlag {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** Takes a value (`--key K`); otherwise a boolean. */
  value: boolean;
  /** May be repeated (`-a k=v -a k2=v2`). */
  repeat?: boolean;
  support: FlagSupport;
  commands: ReadonlyArray<'sign-blob' | 'sign'>;
}

const BOTH = ['sign-blob', 'sign'] as const;
const BLOB = ['sign-blob'] as const;
const IMAGE = ['sign'] as const;

/** cosign's signing flags, by name (cosign v2/v3). */
export const COSIGN_FLAGS: readonly CosignFlag[] = [
  { name: 'key', value: true, support: 'yes', commands: BOTH },
  { name: 'yes', short: 'y', value: false, support: 'yes', commands: BOTH },
  { name: 'output-signature', value: true, support: 'yes', commands: BOTH },
  { name: 'output', value: true, support: 'yes', commands: BLOB },
  { name: 'output-certificate', value: true, support: 'yes', commands: BOTH },
  { name: 'bundle', value: true, support: 'yes', commands: BLOB },
  { name: 'new-bundle-format', value: false, support: 'yes', commands: BOTH },
  { name: 'b64', value: false, support: 'yes', commands: BLOB },
  { name: 'annotations', short: 'a', value: true, repeat: true, support: 'yes', commands: IMAGE },
  { name: 'tlog-upload', value: false, support: 'offline', commands: BOTH },
  { name: 'use-signing-config', value: false, support: 'offline', commands: BOTH },
  { name: 'identity-token', value: true, support: 'no', commands: BOTH },
  { name: 'fulcio-url', value: true, support: 'no', commands: BOTH },
  { name: 'rekor-url', value: true, support: 'no', commands: BOTH },
  { name: 'oidc-issuer', value: true, support: 'no', commands: BOTH },
  { name: 'oidc-client-id', value: true, support: 'no', commands: BOTH },
  { name: 'certificate', value: true, support: 'no', commands: BOTH },
  { name: 'certificate-chain', value: true, support: 'no', commands: BOTH },
  { name: 'signing-config', value: true, support: 'no', commands: BOTH },
  { name: 'timestamp-server-url', value: true, support: 'no', commands: BOTH },
  { name: 'rfc3161-timestamp', value: true, support: 'no', commands: BLOB },
  { name: 'sk', value: false, support: 'no', commands: BOTH },
  { name: 'recursive', short: 'r', value: false, support: 'no', commands: IMAGE },
  { name: 'upload', value: false, support: 'yes', commands: IMAGE },
  { name: 'registry-referrers-mode', value: true, support: 'no', commands: IMAGE },
  { name: 'allow-insecure-registry', value: false, support: 'no', commands: IMAGE },
];

export interface ParsedCosignArgs {
  command: 'sign-blob' | 'sign';
  /** Last value of each flag (booleans as 'true' / 'false'). */
  flags: Map<string, string>;
  /** Every value of a repeatable flag, in order. */
  repeated: Map<string, string[]>;
  positionals: string[];
  /** Flags relsign cannot honour (`--name` as written), each with why. */
  unsupported: string[];
}

const MAX_ARGS = 256;

/**
 * Parses a cosign argv (without the `cosign` itself). Throws an Error with a
 * one-line message for a command or flag relsign cannot run; `unsupported`
 * lists known cosign flags it does not implement (the caller decides).
 */
export function parseCosignArgs(args: readonly string[]): ParsedCosignArgs {
  if (args.length > MAX_ARGS) throw new Error(`more than ${MAX_ARGS} arguments`);
  const command = args[0];
  if (command !== 'sign-blob' && command !== 'sign') {
    throw new Error(`cosign ${JSON.stringify(command ?? '')} is not run in-process (relsign runs cosign sign-blob and cosign sign)`);
  }
  const out: ParsedCosignArgs = { command, flags: new Map(), repeated: new Map(), positionals: [], unsupported: [] };
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const flag = COSIGN_FLAGS.find((f) => (long ? f.name === name : f.short === name));
    if (!flag) throw new Error(`unknown cosign flag ${long ? '--' : '-'}${name}`);
    if (!flag.commands.includes(command)) throw new Error(`--${flag.name} is not a flag of cosign ${command}`);
    let value: string;
    if (flag.value) {
      if (eq >= 0) value = body.slice(eq + 1);
      else {
        if (i + 1 >= args.length) throw new Error(`--${flag.name} needs a value`);
        value = args[++i]!;
      }
    } else {
      value = eq < 0 ? 'true' : parseBool(flag.name, body.slice(eq + 1));
    }
    out.flags.set(flag.name, value);
    if (flag.repeat) out.repeated.set(flag.name, [...(out.repeated.get(flag.name) ?? []), value]);
    if (flag.support === 'no' && !(flag.value === false && value === 'false')) out.unsupported.push(`--${flag.name}`);
  }
  return out;
}

function parseBool(name: string, v: string): string {
  const s = v.trim().toLowerCase();
  if (['true', '1', 't'].includes(s)) return 'true';
  if (['false', '0', 'f'].includes(s)) return 'false';
  throw new Error(`--${name}: invalid boolean ${JSON.stringify(v)}`);
}

/** Whether an entry's `cmd` names cosign (a bare `cosign` or a path ending in it). */
export function isCosignCommand(cmd: string | undefined): boolean {
  if (!cmd) return false;
  const base = cmd.split(/[\\/]/).pop() ?? '';
  return base === 'cosign' || base === 'cosign.exe';
}

/**
 * Why relsign's built-in cosign cannot run these (unrendered) args, or
 * undefined. Arguments that are templates are taken as values.
 */
export function cosignArgsProblem(args: readonly string[]): string | undefined {
  let parsed: ParsedCosignArgs;
  try {
    parsed = parseCosignArgs(args);
  } catch (err) {
    return `${(err as Error).message} (relsign's built-in cosign)`;
  }
  if (parsed.unsupported.length > 0) {
    return `cosign flag${parsed.unsupported.length > 1 ? 's' : ''} ${parsed.unsupported.join(', ')} not implemented by relsign's built-in cosign; install cosign, or remove ${parsed.unsupported.length > 1 ? 'them' : 'it'}`;
  }
  if (!parsed.flags.get('key')) return '--key is required by relsign\'s built-in cosign (keyless signing needs cosign on PATH)';
  return undefined;
}
