import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { abortReason } from '../util/errors.js';
import { fileError } from './errors.js';

/** Read size: large enough to amortise per-call overhead, small enough to stay in L2/L3. */
const CHUNK = 1 << 20;

/**
 * Streams a file through one or more hashes, never holding more than two chunks
 * in memory. While one chunk is being hashed (main thread) the next is already
 * being read (libuv thread pool), so I/O and hashing overlap. Returns the size.
 */
export async function hashFileInto(path: string, hashes: readonly Hash[], signal?: AbortSignal): Promise<number> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(err, path);
  }
  const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] as const;
  let which = 0;
  let total = 0;
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    pending = fh.read(bufs[0], 0, CHUNK, null);
    for (;;) {
      const { bytesRead } = await pending;
      pending = undefined;
      // Checked per chunk: an interrupt stops a large file within one read.
      if (signal?.aborted) throw abortReason(signal);
      if (bytesRead === 0) break;
      const current = bufs[which]!;
      which ^= 1;
      pending = fh.read(bufs[which]!, 0, CHUNK, null);
      const view = bytesRead === CHUNK ? current : current.subarray(0, bytesRead);
      for (const h of hashes) h.update(view);
      total += bytesRead;
    }
    return total;
  } catch (err) {
    if (pending) await pending.catch(() => undefined);
    throw fileError(err, path);
  } finally {
    await fh.close();
  }
}

/** Streams any byte source (e.g. stdin) through the hashes. */
export async function hashStreamInto(stream: AsyncIterable<Uint8Array | string>, hashes: readonly Hash[]): Promise<number> {
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const h of hashes) h.update(bytes);
    total += bytes.length;
  }
  return total;
}

