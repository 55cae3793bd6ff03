import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { portableGzip } from '../../stages/archive/writer.js';
import { completeEntries, tarStream, type TarEntry } from './tar.js';

export interface LayerResult {
  /** sha256 of the gzip'd bytes: the layer blob's digest. */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar: what the image config lists in rootfs.diff_ids. */
  diffId: string;
}

/** Passes bytes through while hashing and counting them. */
class Measure extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * Writes one reproducible gzip'd tar layer to `target` (a temp path the
 * caller renames into place). One pass over the files: the tar is hashed
 * (diff_id), gzip'd with a fixed header (portableGzip: no name, mtime 0, OS
 * byte 255), hashed again (digest) and written. Parent folders are added and
 * entries sorted, so the result depends only on the entries and `mtime`.
 */
export async function writeLayer(entries: readonly TarEntry[], mtime: Date, target: string): Promise<LayerResult> {
  const sorted = completeEntries(entries);
  const tar = new Measure();
  const gz = new Measure();
  try {
    await pipeline(
      Readable.from(tarStream(sorted, mtime), { objectMode: false }),
      tar,
      ...portableGzip(),
      gz,
      createWriteStream(target, { mode: 0o644, flags: 'wx' }),
    );
  } catch (err) {
    await rm(target, { force: true });
    throw err;
  }
  return { digest: gz.digest(), size: gz.bytes, diffId: tar.digest() };
}
