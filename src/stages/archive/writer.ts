import { constants as fsc, type Stats, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { open, rename, rm } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zc, crc32, createDeflateRaw } from 'node:zlib';
import { createRequire } from 'node:module';
import type { Archiver } from 'archiver';
import { RelsignError } from '../../util/errors.js';
import { tempPathFor } from '../../util/fs.js';
export { describeFsError } from '../../util/fs.js';
import { writeZip } from './zip.js';

// archiver 7 is CommonJS with a callable default export; the installed @types/archiver
// describe v8's class API, so only the instance type is taken from them.
const archiver = createRequire(import.meta.url)('archiver') as (format: 'zip' | 'tar', options?: object) => Archiver;

/** Archive formats that produce a file (`binary` produces none). */
export type FileFormat = 'tar.gz' | 'tgz' | 'tar' | 'zip' | 'gz';

/** One file to put into an archive. Everything that ends up in the archive is fixed here, so output is reproducible. */
export interface ArchiveEntry {
  /** Absolute path on disk (followed if a symlink). */
  src: string;
  /** Path inside the archive: forward slashes, relative, already checked not to escape. */
  dst: string;
  mode: number;
  mtime: Date;
  owner: string;
  group: string;
  stats: Stats;
}

/** gzip -6, like GNU tar -z and `zip -6`. */
export const COMPRESSION_LEVEL = 6;
/** Large reads and deflate outputs: each deflate write is a thread-pool round trip (see zip.ts). */
const READ_CHUNK = 1 << 20;
const DEFLATE_CHUNK = 256 * 1024;

/**
 * Writes `entries` (already sorted) into `target` with the given format,
 * through a temp sibling renamed into place. Files are streamed, one at a
 * time; nothing is read whole into memory. Any failure (a source that
 * changed size or cannot be read, a full disk, a name the file system
 * refuses, `signal` aborting) rejects after the temp file is removed.
 */
export async function writeArchive(
  format: FileFormat,
  target: string,
  entries: readonly ArchiveEntry[],
  signal?: AbortSignal,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    if (format === 'gz') await writeGzip(tmp, entries, signal, onBytes);
    else if (format === 'zip') await writeZip(tmp, entries, COMPRESSION_LEVEL, signal, onBytes);
    else await writeTar(format, tmp, entries, signal, onBytes);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * The bytes of `entry.src`, exactly `entry.stats.size` of them, read in 1 MiB
 * chunks. Archive headers carry the size listed before writing, so a file
 * that grows (a log being appended to, a device or pipe that never ends) or
 * shrinks meanwhile is an error, found after at most one extra byte: reading
 * is bounded by the listed size whatever the file does.
 */
export async function* readExactly(entry: ArchiveEntry, signal?: AbortSignal, onBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
  const size = entry.stats.size;
  // Non-blocking, then checked: a pipe or device swapped in since listing must not block or never end.
  const fh = await open(entry.src, fsc.O_RDONLY | fsc.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw new RelsignError(`${entry.src} is not a regular file (a pipe, device or socket); archive only regular files`);
    let left = size;
    while (left > 0) {
      if (signal?.aborted) throw new RelsignError(`archiving ${entry.dst}: cancelled`);
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) throw changedSize(entry, size - left);
      left -= bytesRead;
      onBytes?.(bytesRead);
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
    const { bytesRead } = await fh.read(Buffer.alloc(1), 0, 1, null);
    if (bytesRead > 0) throw changedSize(entry, size + 1);
  } finally {
    await fh.close();
  }
}

function changedSize(entry: ArchiveEntry, now: number): RelsignError {
  const how = now > entry.stats.size ? `grew past ${entry.stats.size} bytes` : `shrank from ${entry.stats.size} to ${now} bytes`;
  return new RelsignError(`${entry.src} changed size while being archived (it ${how}); archive only files nothing writes to`);
}

async function writeGzip(tmp: string, entries: readonly ArchiveEntry[], signal?: AbortSignal, onBytes?: (bytes: number) => void): Promise<void> {
  if (entries.length !== 1) throw new Error(`gz holds exactly one file, got ${entries.length}`);
  const entry = entries[0]!;
  await pipeline(
    Readable.from(readExactly(entry, signal, onBytes), { objectMode: false }),
    ...portableGzip(entry.dst.split('/').pop()),
    await openOutput(tmp),
  );
}

/**
 * The temp file, opened before any stream is set up: a name the file system
 * refuses fails here, as a plain rejection, not as a stream error later.
 */
export async function openOutput(tmp: string): Promise<WriteStream> {
  const fh = await open(tmp, 'wx', 0o644);
  return fh.createWriteStream();
}

/**
 * tar via archiver (tar-stream: ustar + pax for long names), gzipped by
 * portableGzip. tar-stream fails a size mismatch with an 'error' nobody can
 * listen to (archiver pipes into its entry stream), which would crash the
 * process; so each entry's bytes come from readExactly, and a failure there
 * is recorded while the entry is completed with zeros. archiver then ends
 * normally, and the recorded failure rejects (the caller deletes the file).
 */
async function writeTar(
  format: 'tar' | 'tar.gz' | 'tgz',
  tmp: string,
  entries: readonly ArchiveEntry[],
  signal?: AbortSignal,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const archive = archiver('tar', { gzip: false });
  let failure: unknown;
  const fail = (err: unknown) => {
    failure ??= err;
  };
  archive.on('warning', fail);
  archive.on('error', fail);
  const out = await openOutput(tmp);
  const done = format === 'tar' ? pipeline(archive, out) : pipeline(archive, ...portableGzip(), out);
  done.catch(fail);
  // One entry at a time: archiver opens a stream source at once, so appending all up front
  // would open every file and buffer a chunk of each.
  for (const e of entries) {
    if (failure !== undefined) break;
    const added = once(archive, 'entry');
    added.catch(fail);
    archive.append(Readable.from(completed(e, signal, fail, onBytes), { objectMode: false }), {
      name: e.dst,
      mode: e.mode,
      date: e.mtime,
      stats: e.stats,
      // numeric ids are always 0; owner/group names as configured ('' by default).
      ...({ uid: 0, gid: 0, uname: e.owner, gname: e.group } as object),
    });
    await Promise.race([added, done]).catch(fail);
  }
  if (failure !== undefined) {
    archive.abort();
    out.destroy();
    throw failure;
  }
  // finalize() resolves when the archive's data is complete; the pipeline when it is on disk.
  const finalized = archive.finalize();
  const results = await Promise.allSettled([finalized, done]);
  if (failure !== undefined) throw failure;
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** readExactly, except that a failure is handed to `fail` and the rest of the entry is zeros. */
async function* completed(entry: ArchiveEntry, signal: AbortSignal | undefined, fail: (err: unknown) => void, onBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
  let sent = 0;
  try {
    for await (const chunk of readExactly(entry, signal, onBytes)) {
      sent += chunk.length;
      yield chunk;
    }
  } catch (err) {
    fail(err);
    const zeros = Buffer.alloc(Math.min(READ_CHUNK, Math.max(1, entry.stats.size - sent)));
    for (let left = entry.stats.size - sent; left > 0; left -= zeros.length) {
      yield left >= zeros.length ? zeros : zeros.subarray(0, left);
    }
  }
}

/**
 * A gzip stream whose header is the same on every machine: mtime 0, no OS
 * guess (255 = unknown), like `gzip -n` and node-tar's `portable`. Node's own
 * gzip writes the build platform's OS byte. Optional FNAME for `.gz` files.
 * Returns the streams to put in a pipeline: crc/size counter → raw deflate → framing.
 */
export function portableGzip(fname?: string): [Transform, Transform, Transform] {
  let crc = 0;
  let size = 0;
  // Counts and batches: tar-stream emits 512-byte headers and 64 KiB reads; deflate prefers ~1 MiB writes.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const measure = new Transform({
    highWaterMark: READ_CHUNK,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      crc = crc32(chunk, crc);
      size = (size + chunk.length) >>> 0;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= READ_CHUNK) {
        const batch = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        cb(null, batch);
      } else cb();
    },
    flush(cb: TransformCallback) {
      cb(null, pendingBytes > 0 ? Buffer.concat(pending, pendingBytes) : undefined);
    },
  });
  const deflate = createDeflateRaw({ level: COMPRESSION_LEVEL, chunkSize: DEFLATE_CHUNK, strategy: zc.Z_DEFAULT_STRATEGY });
  let headerSent = false;
  const frame = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!headerSent) {
        headerSent = true;
        this.push(gzipHeader(fname));
      }
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (!headerSent) this.push(gzipHeader(fname));
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(size, 4);
      cb(null, trailer);
    },
  });
  return [measure, deflate as unknown as Transform, frame];
}

function gzipHeader(fname?: string): Buffer {
  const name = fname ? Buffer.from(fname + '\0', 'latin1') : Buffer.alloc(0);
  const h = Buffer.alloc(10);
  h[0] = 0x1f;
  h[1] = 0x8b;
  h[2] = 8; // deflate
  h[3] = fname ? 0x08 : 0; // FNAME
  // bytes 4-7: mtime 0; byte 8: XFL 0 (level 6 is neither "max" nor "fastest")
  h[9] = 0xff; // OS unknown: the same bytes on every platform
  return Buffer.concat([h, name]);
}
