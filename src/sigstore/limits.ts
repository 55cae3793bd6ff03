/**
 * Size limits for the small files signing reads whole: keys, signatures,
 * bundles, trusted roots. Real ones are a few KiB at most (an RSA-4096 cosign
 * key is under 5 KiB, a P-521 signature under 200 bytes of base64), so each
 * limit leaves wide room while keeping a hostile or mistaken input (a 10 MB
 * "signature", a log file passed as a key) from being read and parsed at all.
 * Files are checked by size before they are read, and read no further than
 * the limit, so a device or a growing file cannot get around the check.
 */
import { open } from 'node:fs/promises';
import { RelsignError } from '../util/errors.js';
import { fileError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Key files (`cosign.key`, `cosign.pub`, import-key-pair input) and `env://VAR` key text. */
export const MAX_KEY_BYTES = 64 * KiB;
/** A detached signature: base64 text or raw bytes, from a file, a flag or the API. */
export const MAX_SIGNATURE_BYTES = 64 * KiB;
/** A bundle (either format), JSON. */
export const MAX_BUNDLE_BYTES = 4 * MiB;
/** A Sigstore `trusted_root.json`. */
export const MAX_TRUSTED_ROOT_BYTES = 4 * MiB;

/** `1.5 MiB`, `64 KiB`, `12 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${bytes} bytes`;
}

/** The one-line message for an input over its limit: `<where>: too large for <what> (10 MiB; at most 64 KiB)`. */
export function tooLargeMessage(where: string, what: string, size: number, limit: number, exact = true): string {
  const shown = exact ? formatSize(size) : `over ${formatSize(limit)}`;
  return `${where}: too large for ${what} (${shown}; at most ${formatSize(limit)})`;
}

/** Throws when `text` is longer than `limit` bytes (UTF-8). Counting does not copy the text. */
export function checkTextSize(text: string | Uint8Array, limit: number, where: string, what: string): void {
  // A string's UTF-8 size is at least its length: skip the count for the common small case.
  const size = typeof text === 'string' ? (text.length > limit ? text.length : Buffer.byteLength(text, 'utf8')) : text.length;
  if (size > limit) throw new RelsignError(tooLargeMessage(where, what, size, limit));
}

/**
 * Reads a whole file of at most `limit` bytes. The size is checked with fstat
 * first; for things that are not regular files (a pipe, /dev/stdin) at most
 * `limit + 1` bytes are read. `path` names the file in errors, `what` says what
 * it should have been (`a key file`, `a signature`).
 */
export async function readFileBounded(path: string, limit: number, what: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(err, path);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new RelsignError(`cannot read ${path}: is a directory`);
    if (st.isFile() && st.size > limit) throw new RelsignError(tooLargeMessage(path, what, st.size, limit));
    const buf = Buffer.alloc(limit + 1);
    let filled = 0;
    // Bounded: each read adds at least one byte or ends the loop, and the buffer has limit + 1 bytes.
    while (filled < buf.length) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > limit) throw new RelsignError(tooLargeMessage(path, what, filled, limit, false));
    return buf.subarray(0, filled);
  } catch (err) {
    throw fileError(err, path);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
