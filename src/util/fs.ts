import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, open, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RelsignError } from './errors.js';

/**
 * A sibling temp name: same directory, so the final rename is atomic. The
 * target's name is shortened in it, so a target name near the file-system
 * limit (255 bytes) still gets a valid temp name and fails, if at all, on its
 * own name rather than on a long temp name.
 */
export function tempPathFor(target: string): string {
  const name = Buffer.from(basename(target), 'utf8').subarray(0, 100).toString('utf8').replace(/\uFFFD+$/, '');
  return join(dirname(target), `.relsign-tmp-${randomBytes(6).toString('hex')}-${name}`);
}

/**
 * Write a file so that readers see either the old content or the whole new
 * content, never a half-written file: write a temp sibling, fsync, rename.
 * On any failure the temp file is removed before the error is passed on.
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const tmp = tempPathFor(target);
  const mode = options.mode ?? 0o644;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // open() honours the umask; set the exact mode we promised (e.g. 0600 keys).
    await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** One line for a failed write or read, without repeating long paths: `file name too long (ENAMETOOLONG)`. */
export function describeFsError(err: unknown): string {
  if (err instanceof RelsignError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENAMETOOLONG: 'file name too long',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOENT: 'no such file or folder',
    EISDIR: 'is a folder',
    EIO: 'input/output error',
    EMFILE: 'too many open files',
    EROFS: 'read-only file system',
  };
  if (e && typeof e.code === 'string') return `${known[e.code] ?? e.code.toLowerCase()} (${e.code})`;
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(err);
}

/** Streams a file through a hash; never holds the file in memory. */
export async function hashFile(path: string, algorithm = 'sha256', onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash(algorithm);
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

/** True when `child` is `parent` or below it (both absolute, already resolved). */
export function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * The real location of `path`, which need not exist yet: the realpath of its
 * deepest existing ancestor plus the rest. A symlink on the way that points
 * nowhere (dangling, or a loop) is an error: whatever is written through it
 * would land wherever it is made to point later.
 */
export async function realLocation(path: string): Promise<string> {
  const abs = resolve(path);
  const rest: string[] = [];
  let current = abs;
  // One step per path segment: bounded by the path's depth.
  for (;;) {
    try {
      const real = await realpath(current);
      return rest.length > 0 ? join(real, ...rest.reverse()) : real;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const link = await lstat(current).catch(() => undefined);
      if (link?.isSymbolicLink()) throw new RelsignError(`${current} is a symlink to a missing target`);
      const parent = dirname(current);
      if (parent === current) return abs;
      rest.push(basename(current));
      current = parent;
    }
  }
}

export interface InsidePath {
  /** Absolute real path (symlinks resolved), inside the real project root. */
  real: string;
  /** The same, relative to the real project root, with `/` separators ('' for the root itself). */
  rel: string;
}

/**
 * Resolves `path` (relative to `root`, or absolute) through every symlink and
 * checks that it stays inside `root`: the one place where relsign decides
 * whether a configured path, a glob match or an output folder is inside the
 * project. `where` names the setting in the error (`archives[0].files[1]`).
 */
export async function resolveInside(
  root: string,
  path: string,
  where: string,
  options: { shown?: string; hint?: string } = {},
): Promise<InsidePath> {
  const shown = options.shown ?? JSON.stringify(path);
  const realRoot = await realLocation(root);
  let real: string;
  try {
    real = await realLocation(resolve(root, path));
  } catch (err) {
    if (err instanceof RelsignError) throw new RelsignError(`${where}: ${shown}: ${err.message}`);
    throw new RelsignError(`${where}: cannot resolve ${shown}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!isWithin(realRoot, real)) {
    const via = real === resolve(root, path) ? '' : ` (it resolves to ${real})`;
    throw new RelsignError(`${where}: ${shown} is outside the project folder ${realRoot}${via}${options.hint ? `; ${options.hint}` : ''}`);
  }
  return { real, rel: relative(realRoot, real).split(sep).join('/') };
}
