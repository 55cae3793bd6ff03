import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { RelsignError } from '../../util/errors.js';

/**
 * A minimal, reproducible tar writer for image layers. Only what a layer
 * needs: directories and regular files, ustar headers, and a pax `path`
 * record for names that do not fit. Every header field is fixed by the
 * caller or constant (uid/gid 0, empty uname/gname, no atime/ctime), so the
 * bytes depend only on the entries given, never on the host.
 */
export interface TarEntry {
  /** Path inside the layer: relative, forward slashes, no `.`/`..` segments (see `layerPath`). */
  path: string;
  type: 'dir' | 'file';
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** For files: where the bytes come from (streamed) and how many there must be. */
  src?: string;
  size?: number;
}

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits: 8 GiB - 1
/** Upper bound on a path inside a layer: far beyond any real file system path, small enough to bound work. */
const MAX_PATH = 4096;

/**
 * Normalizes an absolute in-image path (`/usr/local/bin/app`) into a layer
 * path (`usr/local/bin/app`). Refuses `..`, empty names and NUL bytes.
 */
export function layerPath(imagePath: string, where: string): string {
  if (imagePath.length > MAX_PATH) throw new RelsignError(`${where}: path is longer than ${MAX_PATH} characters`);
  if (imagePath.includes('\0')) throw new RelsignError(`${where}: path contains a NUL byte`);
  if (!imagePath.startsWith('/')) throw new RelsignError(`${where}: ${JSON.stringify(imagePath)} must be an absolute path in the image (start with /)`);
  const parts = imagePath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new RelsignError(`${where}: ${JSON.stringify(imagePath)} contains ".."`);
  if (parts.length === 0) throw new RelsignError(`${where}: ${JSON.stringify(imagePath)} names the image root, not a file`);
  return parts.join('/');
}

/**
 * Adds the parent directories of every entry (mode 0755) and sorts by path
 * (bytewise), so the same set of files always gives the same order. A file
 * and a directory with the same path is an error; two files with the same
 * path is an error.
 */
export function completeEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) {
    const prev = byPath.get(e.path);
    if (prev) throw new RelsignError(`two entries for /${e.path} in the layer`);
    byPath.set(e.path, e);
  }
  for (const e of entries) {
    let dir = posix.dirname(e.path);
    while (dir !== '.' && dir !== '/') {
      const prev = byPath.get(dir);
      if (prev && prev.type !== 'dir') throw new RelsignError(`/${dir} is a file in the layer but /${e.path} needs it as a folder`);
      if (!prev) byPath.set(dir, { path: dir, type: 'dir', mode: 0o755 });
      dir = posix.dirname(dir);
    }
  }
  return [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 digits, zero padded, then NUL (as GNU tar and Go's archive/tar write them).
  buf.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

function header(name: string, type: '0' | '5' | 'x', mode: number, size: number, mtime: number, prefix = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode & 0o7777);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii'); // POSIX ustar magic + version
  // uname/gname (265/297) stay empty; devmajor/devminor zero.
  octal(h, 329, 8, 0);
  octal(h, 337, 8, 0);
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** Splits a long name into ustar prefix/name at a slash, if that makes both fit. */
function ustarSplit(name: string): [string, string] | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return [prefix, rest];
  }
  return undefined;
}

/** One pax record: "<len> <key>=<value>\n", where len counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  // The length field's own digits are part of the length: at most two candidates to try.
  let n = bodyLen + String(bodyLen).length;
  if (String(n).length + bodyLen !== n) n += 1;
  return `${n}${body}`;
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : ZERO_BLOCK.subarray(0, BLOCK - rem);
}

/**
 * Yields the tar bytes of `entries` (already completed and sorted). File
 * contents are streamed from disk; a file whose size differs from the one
 * recorded is an error (it changed while the layer was being written).
 */
export async function* tarStream(entries: readonly TarEntry[], mtime: Date): AsyncGenerator<Buffer> {
  const secs = Math.max(0, Math.floor(mtime.getTime() / 1000));
  for (const e of entries) {
    const name = e.type === 'dir' ? `${e.path}/` : e.path;
    const size = e.type === 'file' ? (e.size ?? 0) : 0;
    const split = ustarSplit(name);
    const pax: string[] = [];
    if (!split) pax.push(paxRecord('path', name));
    if (size > MAX_OCTAL_SIZE) pax.push(paxRecord('size', String(size)));
    if (pax.length > 0) {
      const body = Buffer.from(pax.join(''), 'utf8');
      // Name of the pax header entry is informational; Go and GNU tar use a PaxHeaders path.
      const paxName = `PaxHeaders.0/${posix.basename(e.path)}`.slice(0, 100);
      yield header(paxName, 'x', 0o644, body.length, secs);
      yield body;
      yield padding(body.length);
    }
    const [prefix, short] = split ?? ['', name.slice(0, 100)];
    yield header(short, e.type === 'dir' ? '5' : '0', e.mode, Math.min(size, MAX_OCTAL_SIZE), secs, prefix);
    if (e.type === 'file') {
      let seen = 0;
      for await (const chunk of createReadStream(e.src!, { highWaterMark: 1 << 20 })) {
        seen += (chunk as Buffer).length;
        if (seen > size) throw new RelsignError(`${e.src} grew while the layer was being written`);
        yield chunk as Buffer;
      }
      if (seen !== size) throw new RelsignError(`${e.src} shrank while the layer was being written`);
      yield padding(size);
    }
  }
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}
