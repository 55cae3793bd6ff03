/**
 * The registry operations image signing and verification need. RegistryClient
 * (src/oci/client.ts) provides them; naming the subset keeps these modules
 * honest about what they touch.
 */
import type { RegistryClient, RepoRef } from '../client.js';
import type { Descriptor } from '../types.js';
import { RelsignError } from '../../util/errors.js';

export type SignatureRegistry = Pick<
  RegistryClient,
  'headManifest' | 'getManifest' | 'putManifest' | 'headBlob' | 'pushBlob' | 'getBlobBytes' | 'getReferrers'
>;
export type { Descriptor, RepoRef };

/** cosign's legacy signature tag for a digest: `sha256-<hex>.sig`. */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** The referrers tag schema's fallback tag for a digest: `sha256-<hex>`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/** Describes a repository in messages: `host/repo`. */
export function repoName(repo: RepoRef): string {
  return `${repo.registry}/${repo.repository}`;
}

/**
 * Waits a little, with jitter, between a write and the read that confirms it,
 * so that two writers racing on one tag see each other's write and re-merge.
 */
export function settle(attempt: number, signal?: AbortSignal): Promise<void> {
  const ms = 20 + Math.floor(Math.random() * 40) + attempt * 25;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}

const MAX_ROUNDS = 12;

/**
 * Read-merge-write on a tag that several writers may update at once (the
 * registry has no compare-and-swap): write only when our entry is missing,
 * then re-read until it has been seen twice in a row; when another writer
 * replaced the tag in between, merge again from what is there now. Bounded.
 */
export async function addToTag<T>(options: {
  what: string;
  read(): Promise<T | undefined>;
  contains(current: T | undefined): boolean;
  write(current: T | undefined): Promise<void>;
  signal?: AbortSignal;
}): Promise<'added' | 'present'> {
  let wrote = false;
  let seen = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = await options.read();
    if (options.contains(current)) {
      if (!wrote) return 'present';
      if (++seen >= 2) return 'added';
    } else {
      seen = 0;
      await options.write(current);
      wrote = true;
    }
    await settle(round, options.signal);
  }
  throw new RelsignError(`${options.what}: gave up after ${MAX_ROUNDS} rounds: other writers keep replacing the tag`);
}
