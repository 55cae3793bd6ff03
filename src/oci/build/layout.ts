import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RelsignError } from '../../util/errors.js';
import { tempPathFor, writeFileAtomic } from '../../util/fs.js';
import { OCI_INDEX, type Descriptor } from '../types.js';

/**
 * An OCI image layout on disk (image-spec image-layout.md): `oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`. Blobs are written under a temp name
 * and renamed, and index.json is written last, so a layout that has an
 * index.json is complete.
 */
export class OciLayout {
  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (alg !== 'sha256' || !hex || !/^[a-f0-9]{64}$/.test(hex)) throw new RelsignError(`unsupported digest ${digest.slice(0, 80)} (only sha256 blobs can be stored in the layout)`);
    return join(this.dir, 'blobs', 'sha256', hex);
  }

  async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
  }

  /** A temp file next to the blobs (same file system, so the rename is atomic). */
  tempBlobPath(): string {
    return tempPathFor(join(this.dir, 'blobs', 'sha256', 'blob'));
  }

  /** Moves a finished temp file into place under its digest. */
  async commitBlob(tmp: string, digest: string): Promise<string> {
    const target = this.blobPath(digest);
    await rename(tmp, target);
    return target;
  }

  async hasBlob(digest: string, size: number): Promise<boolean> {
    const st = await stat(this.blobPath(digest)).catch(() => undefined);
    return st?.isFile() === true && st.size === size;
  }

  /** Writes a small JSON blob (config, manifest, index) and returns its descriptor. */
  async writeBytes(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (!(await this.hasBlob(digest, bytes.length))) await writeFileAtomic(this.blobPath(digest), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /**
   * Stores a blob read from `source` (e.g. a registry download), hashing it on
   * the way; the file only gets its digest name when the bytes match.
   */
  async writeStream(source: NodeJS.ReadableStream, desc: { digest: string; size: number }): Promise<void> {
    if (await this.hasBlob(desc.digest, desc.size)) return;
    const tmp = this.tempBlobPath();
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer | string>) {
          for await (const chunk of chunks) {
            const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            hash.update(c);
            size += c.length;
            yield c;
          }
        },
        createWriteStream(tmp, { mode: 0o644, flags: 'wx' }),
      );
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest || size !== desc.size) {
        throw new RelsignError(`downloaded blob is ${got} (${size} bytes), expected ${desc.digest} (${desc.size} bytes)`);
      }
      await this.commitBlob(tmp, desc.digest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Writes `oci-layout` and `index.json` (last): the layout is complete from here on. */
  async finish(top: Descriptor, refName?: string): Promise<void> {
    await writeFileAtomic(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const entry: Descriptor = { ...top, ...(refName ? { annotations: { ...top.annotations, 'org.opencontainers.image.ref.name': refName } } : {}) };
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] };
    await writeFileAtomic(join(this.dir, 'index.json'), JSON.stringify(index));
  }
}
