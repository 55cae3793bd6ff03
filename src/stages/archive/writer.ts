import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zc, crc32, createDeflateRaw } from 'node:zlib';
import { createRequire } from 'node:module';
import type { Archiver } from 'archiver';
import { tempPathFor } from '../../util/fs.js';
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
 * time; nothing is read whole into memory.
 */
export async function writeArchive(format: FileFormat, target: string, entries: readonly ArchiveEntry[]): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    if (format === 'gz') await writeGzip(tmp, entries);
    else if (format === 'zip') await writeZip(tmp, entries, COMPRESSION_LEVEL);
    else await writeTar(format, tmp, entries);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function writeGzip(tmp: string, entries: readonly ArchiveEntry[]): Promise<void> {
  if (entries.length !== 1) throw new Error(`gz holds exactly one file, got ${entries.length}`);
  const entry = entries[0]!;
  await pipeline(
    createReadStream(entry.src, { highWaterMark: READ_CHUNK }),
    ...portableGzip(entry.dst.split('/').pop()),
    createWriteStream(tmp, { mode: 0o644 }),
  );
}

/** tar via archiver (tar-stream: ustar + pax for long names), gzipped by portableGzip. */
async function writeTar(format: 'tar' | 'tar.gz' | 'tgz', tmp: string, entries: readonly ArchiveEntry[]): Promise<void> {
  const archive = archiver('tar', { gzip: false });
  const warnings: Error[] = [];
  archive.on('warning', (err: Error) => warnings.push(err));
  const out = createWriteStream(tmp, { mode: 0o644 });
  const done = format === 'tar' ? pipeline(archive, out) : pipeline(archive, ...portableGzip(), out);
  for (const e of entries) {
    archive.file(e.src, {
      name: e.dst,
      mode: e.mode,
      date: e.mtime,
      stats: e.stats,
      // numeric ids are always 0; owner/group names as configured ('' by default).
      ...({ uid: 0, gid: 0, uname: e.owner, gname: e.group } as object),
    });
  }
  // finalize() resolves when the archive's data is complete; the pipeline when it is on disk.
  await Promise.all([archive.finalize(), done]);
  if (warnings.length > 0) throw warnings[0];
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
