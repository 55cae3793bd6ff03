import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { access, constants } from 'node:fs/promises';
import type { SignConfig } from '../../config/types.js';
import type { Context } from '../../pipeline/context.js';
import { cosignArgsProblem, isCosignCommand, parseCosignArgs, type ParsedCosignArgs } from '../../sigstore/cosign-args.js';
import { RelsignError } from '../../util/errors.js';
import type { Signer } from '../../sigstore/index.js';
import type { BuiltinSigners } from './builtin.js';
import type { SignOutputs } from './cmd.js';
import { SignResolver } from './resolve.js';

/** Where `file` resolves on PATH, or undefined. A name with a slash is checked as a path. */
export async function whichCommand(file: string, env: Record<string, string | undefined>, cwd: string): Promise<string | undefined> {
  const executable = (p: string) =>
    access(p, constants.X_OK).then(
      () => true,
      () => false,
    );
  if (file.includes('/') || file.includes('\\')) {
    const p = resolve(cwd, file);
    return (await executable(p)) ? p : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter).slice(0, 256)) {
    if (!dir) continue;
    const p = join(dir, file);
    if (await executable(p)) return p;
  }
  return undefined;
}

/**
 * Whether an entry's `cmd: cosign` runs in-process: `cosign: builtin` says so,
 * otherwise only when no cosign is on PATH (then it runs as configured).
 */
export async function cosignInProcess(ctx: Context, cfg: SignConfig): Promise<boolean> {
  if (cfg.signer !== 'cmd' || !isCosignCommand(cfg.cmd)) return false;
  if (cfg.cosign === 'builtin') return true;
  if (cfg.cosign === 'path') return false;
  return (await whichCommand(cfg.cmd!, ctx.env, ctx.cwd)) === undefined;
}

/** Parses an entry's cosign args, turning problems into one-line config errors. */
export function parseEntryArgs(args: readonly string[], where: string): ParsedCosignArgs {
  let parsed: ParsedCosignArgs;
  try {
    parsed = parseCosignArgs(args);
  } catch (err) {
    throw new RelsignError(`${where}.args: ${(err as Error).message}; install cosign, or change the args`);
  }
  if (parsed.unsupported.length > 0) {
    throw new RelsignError(
      `${where}.args: cosign flag${parsed.unsupported.length > 1 ? 's' : ''} ${parsed.unsupported.join(', ')} not implemented by relsign's built-in cosign; install cosign, or remove ${parsed.unsupported.length > 1 ? 'them' : 'it'}`,
    );
  }
  return parsed;
}

/**
 * Runs a pasted `cosign sign-blob …` / `cosign sign …` entry with relsign's
 * own cosign-compatible signer: same flags, same outputs, and the password as
 * cosign gets it (COSIGN_PASSWORD from the entry's environment, else the
 * entry's stdin verbatim, trailing newline included).
 */
export async function signWithCosignInProcess(
  ctx: Context,
  cfg: SignConfig,
  where: string,
  r: SignResolver,
  builtin: BuiltinSigners,
  docker: boolean,
): Promise<SignOutputs & { image?: string; publicKeyPem?: string }> {
  const args = cfg.args.map((a, i) => r.apply(a, `args[${i}]`));
  const parsed = parseEntryArgs(args, where);
  const expected = docker ? 'sign' : 'sign-blob';
  if (parsed.command !== expected) {
    throw new RelsignError(`${where}.args: cosign ${parsed.command} cannot sign ${docker ? 'an image' : 'a file'} (use cosign ${expected})`);
  }
  const keyRef = parsed.flags.get('key');
  if (!keyRef) throw new RelsignError(`${where}.args: --key is required (keyless signing needs cosign on PATH)`);
  if (parsed.positionals.length !== 1) {
    throw new RelsignError(`${where}.args: cosign ${parsed.command} takes exactly one ${docker ? 'image' : 'file'}, got ${parsed.positionals.length}`);
  }
  const { password, id } = await passwordFor(ctx, cfg, where, r);
  const ref = normalizeKeyRef(ctx, keyRef);
  const signer = await builtin.signerForKey(ref, password, id, where);

  if (docker) {
    const annotations: Record<string, string> = {};
    for (const a of parsed.repeated.get('annotations') ?? []) {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new RelsignError(`${where}.args: -a ${JSON.stringify(a)} is not key=value`);
      annotations[a.slice(0, eq)] = a.slice(eq + 1);
    }
    const { signImageBuiltin, describeImageSignature } = await import('./image.js');
    const stored = await signImageBuiltin(ctx, cfg, where, r, builtin, { signer, annotations });
    return { image: describeImageSignature(stored) };
  }

  const file = insideProject(ctx, parsed.positionals[0]!, where, 'the file to sign');
  const sig = await signer.signFile(file, { signal: ctx.signal });
  const outputs: SignOutputs = {};
  const sigPath = parsed.flags.get('output-signature') ?? parsed.flags.get('output');
  if (sigPath) {
    await signer.writeSignature(insideProject(ctx, sigPath, where, '--output-signature'), sig, { base64: parsed.flags.get('b64') !== 'false' });
    outputs.signature = relative(ctx.cwd, resolve(ctx.cwd, sigPath));
  }
  const bundle = parsed.flags.get('bundle');
  if (bundle) {
    const abs = insideProject(ctx, bundle, where, '--bundle');
    if (parsed.flags.get('new-bundle-format') === 'true') await signer.writeBundle(abs, sig);
    else await signer.writeLegacyBundle(abs, sig);
    outputs.bundle = relative(ctx.cwd, abs);
  } else if (parsed.flags.get('new-bundle-format') === 'true') {
    throw new RelsignError(`${where}.args: must specify --bundle with --new-bundle-format`);
  }
  if (!outputs.signature && !outputs.bundle) {
    throw new RelsignError(`${where}.args: nothing to write; add --output-signature=\${signature} or --bundle`);
  }
  // What the release uploads is what the entry declares, as with a real cosign.
  return { signature: r.vars.signature && outputs.signature ? r.vars.signature : outputs.signature, bundle: outputs.bundle, publicKeyPem: signer.publicKeyPem };
}

/**
 * The key a pasted `cosign sign-blob --key …` entry signs with, for a file
 * other than its artifacts (the release manifest): same key reference and
 * password as the entry's own signatures, decrypted once per run.
 */
export async function cosignEntrySigner(ctx: Context, cfg: SignConfig, where: string, r: SignResolver, builtin: BuiltinSigners): Promise<Signer> {
  const parsed = parseEntryArgs(cfg.args.map((a, i) => r.apply(a, `args[${i}]`)), where);
  const keyRef = parsed.flags.get('key');
  if (!keyRef) throw new RelsignError(`${where}.args: --key is required (keyless signing needs cosign on PATH)`);
  const { password, id } = await passwordFor(ctx, cfg, where, r);
  return builtin.signerForKey(normalizeKeyRef(ctx, keyRef), password, id, where);
}

/** The password as cosign gets it; `id` distinguishes passwords in the signer cache without holding them twice. */
async function passwordFor(ctx: Context, cfg: SignConfig, where: string, r: SignResolver): Promise<{ password: () => Promise<string>; id: string }> {
  const fromEnv = r.env.COSIGN_PASSWORD;
  if (fromEnv !== undefined) {
    ctx.redactor.add(fromEnv);
    return { password: async () => fromEnv, id: digestOf('env', fromEnv) };
  }
  if (cfg.stdin !== undefined) {
    const input = r.apply(cfg.stdin, 'stdin');
    ctx.redactor.add(input);
    return { password: async () => input, id: digestOf('stdin', input) };
  }
  if (cfg.stdin_file) {
    const path = insideProject(ctx, cfg.stdin_file, where, 'stdin_file');
    const text = await readFile(path, 'utf8').catch(() => {
      throw new RelsignError(`${where}.stdin_file: cannot open ${cfg.stdin_file}`);
    });
    ctx.redactor.add(text);
    return { password: async () => text, id: digestOf('file', text) };
  }
  throw new RelsignError(`${where}: no password for the cosign key: set COSIGN_PASSWORD (it may be empty) or stdin:`);
}

function insideProject(ctx: Context, p: string, where: string, what: string): string {
  const root = resolve(ctx.cwd);
  const abs = isAbsolute(p) ? resolve(p) : resolve(root, p);
  if (abs !== root && !abs.startsWith(root + sep)) throw new RelsignError(`${where}.args: ${what} ${JSON.stringify(p)} is outside the project folder`);
  return abs;
}

function digestOf(source: string, password: string): string {
  return `${source}:${createHash('sha256').update(password).digest('hex')}`;
}

function normalizeKeyRef(ctx: Context, keyRef: string): string {
  return keyRef.includes('://') ? keyRef : relative(ctx.cwd, resolve(ctx.cwd, keyRef)) || keyRef;
}

/**
 * Preflight for an entry that will run in-process: its args parse, and its
 * key loads and decrypts with the password it will get (the signer is cached
 * for the run). Throws the error signing would; returns a problem for bad args.
 */
export async function cosignArgsProblemAt(ctx: Context, cfg: SignConfig, where: string, builtin: BuiltinSigners): Promise<string | undefined> {
  const problem = cosignArgsProblem(cfg.args);
  if (problem) return `${where}.args: ${problem}`;
  const keyRef = parseCosignArgs(cfg.args).flags.get('key') ?? '';
  // A key chosen per artifact is checked when signing.
  if (keyRef.includes('{{') || keyRef.includes('$')) return undefined;
  const r = new SignResolver(ctx, cfg, where, { type: 'checksum', name: 'preflight', path: 'preflight', extra: {} } as never);
  const { password, id } = await passwordFor(ctx, cfg, where, r);
  await builtin.signerForKey(normalizeKeyRef(ctx, keyRef), password, id, where);
  return undefined;
}
