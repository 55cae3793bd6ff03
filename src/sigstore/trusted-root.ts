/**
 * The Sigstore trusted root that verification checks against: a
 * `trusted_root.json` file (`--trusted-root`, for private deployments and
 * tests), or the public-good instance's, fetched and verified through its TUF
 * repository with @sigstore/tuf and cached under the user's cache directory.
 *
 * Environment: RELSIGN_TUF_MIRROR (another TUF mirror; it then needs
 * RELSIGN_TUF_ROOT, that mirror's initial root.json), RELSIGN_TUF_CACHE (the
 * cache directory).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RelsignError, describeError } from '../util/errors.js';
import { MAX_TRUSTED_ROOT_BYTES, readFileBounded } from './limits.js';

export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/** The user's cache directory for relsign's TUF metadata. */
export function tufCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RELSIGN_TUF_CACHE) return env.RELSIGN_TUF_CACHE;
  const home = homedir();
  if (process.platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'relsign', 'tuf');
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'relsign', 'tuf');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'relsign', 'tuf');
}

/**
 * Refuses a trusted root that a verifier could read too generously: every
 * log key, CA and TSA must say from when it is valid (a missing start is a
 * malformed root, not an unbounded one), and dates must parse.
 */
export function checkTrustedRoot(root: unknown, source: string): Record<string, unknown> {
  const bad = (why: string): never => {
    throw new RelsignError(`trusted root ${source}: ${why}`);
  };
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return bad('not a JSON object');
  const obj = root as Record<string, unknown>;
  const list = (name: string): unknown[] => {
    const v = obj[name];
    if (v === undefined) return [];
    if (!Array.isArray(v)) return bad(`${name} is not a list`);
    if (v.length > 1000) return bad(`${name} has more than 1000 entries`);
    return v;
  };
  const checkValidity = (v: unknown, where: string): void => {
    if (v === null || typeof v !== 'object') return bad(`${where} is missing`);
    const { start, end } = v as { start?: unknown; end?: unknown };
    if (typeof start !== 'string' || start === '') return bad(`${where}.start is missing`);
    if (Number.isNaN(Date.parse(start))) bad(`${where}.start is not a date`);
    if (end !== undefined && end !== null && (typeof end !== 'string' || Number.isNaN(Date.parse(end)))) bad(`${where}.end is not a date`);
  };
  for (const name of ['tlogs', 'ctlogs']) {
    list(name).forEach((e, i) => {
      const pk = (e as { publicKey?: { validFor?: unknown } } | null)?.publicKey;
      if (!pk || typeof pk !== 'object') return bad(`${name}[${i}].publicKey is missing`);
      checkValidity(pk.validFor, `${name}[${i}].publicKey.validFor`);
    });
  }
  for (const name of ['certificateAuthorities', 'timestampAuthorities']) {
    list(name).forEach((e, i) => checkValidity((e as { validFor?: unknown } | null)?.validFor, `${name}[${i}].validFor`));
  }
  return obj;
}

/** Reads and checks a `trusted_root.json`. */
export async function readTrustedRootFile(path: string): Promise<Record<string, unknown>> {
  // Bounded before reading: a pipe or /dev/zero named as the root cannot exhaust memory.
  const text = (await readFileBounded(path, MAX_TRUSTED_ROOT_BYTES, 'a trusted root')).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RelsignError(`${path}: not a JSON trusted root`);
  }
  return checkTrustedRoot(json, path);
}

/** The public-good trusted root through TUF (network on a cold or stale cache). */
export async function publicGoodTrustedRoot(env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  const mirrorURL = env.RELSIGN_TUF_MIRROR || PUBLIC_GOOD_TUF_MIRROR;
  const cachePath = tufCacheDir(env);
  const { getTrustedRoot } = await import('@sigstore/tuf');
  const { TrustedRoot } = await import('@sigstore/protobuf-specs');
  let root;
  try {
    root = await getTrustedRoot({ mirrorURL, cachePath, rootPath: env.RELSIGN_TUF_ROOT || undefined, retry: { retries: 2 }, timeout: 10_000 });
  } catch (err) {
    throw new RelsignError(
      `cannot get the Sigstore trusted root from the TUF repository ${mirrorURL} (cache ${cachePath}): ${describeError(err)}; pass --trusted-root trusted_root.json to verify offline`,
      { cause: err },
    );
  }
  return checkTrustedRoot(TrustedRoot.toJSON(root), `from ${mirrorURL}`);
}
