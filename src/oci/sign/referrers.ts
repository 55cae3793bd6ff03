/**
 * cosign v3's signature layout: a Sigstore bundle (DSSE over an in-toto
 * statement) pushed as an OCI 1.1 artifact manifest whose `subject` is the
 * signed image. Registries with the referrers API index it themselves; for the
 * others (Distribution 2.x, GHCR) the referrers tag schema's fallback index at
 * tag `sha256-<hex>` lists it.
 */
import { BUNDLE_V03_MEDIA_TYPE } from '../../sigstore/bundle.js';
import { RelsignError } from '../../util/errors.js';
import { OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from '../types.js';
import { goJson } from './gojson.js';
import { sha256Digest } from './legacy.js';
import { COSIGN_SIGN_PREDICATE } from './payload.js';
import { addToTag, referrersTag, repoName, type Descriptor, type RepoRef, type SignatureRegistry } from './registry.js';

export const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
/** Bound on referrers read (API answer or fallback index). */
export const MAX_REFERRERS = 1000;

/** RFC 3339 with second precision, as cosign writes `org.opencontainers.image.created`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function bundleManifest(options: { bundle: { digest: string; size: number }; subject: Descriptor; created: Date }): Buffer {
  return Buffer.from(
    goJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: BUNDLE_V03_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY, artifactType: BUNDLE_V03_MEDIA_TYPE, digest: EMPTY_DIGEST, size: EMPTY_JSON.length },
      layers: [{ mediaType: BUNDLE_V03_MEDIA_TYPE, digest: options.bundle.digest, size: options.bundle.size }],
      subject: { mediaType: options.subject.mediaType, digest: options.subject.digest, size: options.subject.size },
      annotations: {
        [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
        [BUNDLE_PREDICATE_ANNOTATION]: COSIGN_SIGN_PREDICATE,
        [CREATED_ANNOTATION]: rfc3339(options.created),
      },
    }),
    'utf8',
  );
}

/** The fallback index's manifests, checked. */
export function indexManifests(json: unknown, where: string): Descriptor[] {
  const bad = (why: string): never => {
    throw new RelsignError(`${where}: not a referrers index: ${why}`);
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return bad('not a JSON object');
  const list = (json as { manifests?: unknown }).manifests ?? [];
  if (!Array.isArray(list)) return bad('manifests is not a list');
  if (list.length > MAX_REFERRERS) return bad(`more than ${MAX_REFERRERS} entries`);
  return list.map((m: unknown, i) => {
    const d = m as Partial<Descriptor> | null;
    if (!d || typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || typeof d.size !== 'number') {
      return bad(`manifests[${i}] needs mediaType, digest and size`);
    }
    return d as Descriptor;
  });
}

/** The referrers of `digest`: from the API when the registry has it, else from the fallback tag. */
export async function listReferrers(
  registry: SignatureRegistry,
  repo: RepoRef,
  digest: string,
  artifactType?: string,
): Promise<{ source: 'api' | 'tag'; manifests: Descriptor[] }> {
  const api = await registry.getReferrers(repo, digest, artifactType);
  if (api.supported) {
    const all = api.manifests.slice(0, MAX_REFERRERS);
    return { source: 'api', manifests: artifactType ? all.filter((m) => m.artifactType === artifactType) : all };
  }
  const tag = referrersTag(digest);
  const got = await registry.getManifest(repo, tag, [OCI_INDEX]);
  const all = got ? indexManifests(got.json, `${repoName(repo)}:${tag}`) : [];
  return { source: 'tag', manifests: artifactType ? all.filter((m) => m.artifactType === artifactType) : all };
}

/**
 * Pushes a signature bundle as a referrer of `subject` (by digest) and, where
 * the registry has no referrers API, adds it to the fallback index. A bundle
 * already attached (same bytes) is not pushed again.
 */
export async function writeReferrerBundle(
  registry: SignatureRegistry,
  repo: RepoRef,
  subject: Descriptor,
  bundle: Buffer,
  options: { created: Date; signal?: AbortSignal },
): Promise<{ digest: string; result: 'added' | 'present'; index: 'api' | 'tag' }> {
  const bundleDesc = { digest: sha256Digest(bundle), size: bundle.length };

  // Already there? (Signing is deterministic, so a re-run makes the same bundle.)
  const existing = await listReferrers(registry, repo, subject.digest, BUNDLE_V03_MEDIA_TYPE);
  for (const m of existing.manifests) {
    const got = await registry.getManifest(repo, m.digest, [OCI_MANIFEST]);
    const layers = (got?.json as { layers?: Array<{ digest?: unknown }> } | undefined)?.layers;
    if (Array.isArray(layers) && layers.some((l) => l?.digest === bundleDesc.digest)) {
      return { digest: m.digest, result: 'present', index: existing.source };
    }
  }

  await registry.pushBlob(repo, { digest: EMPTY_DIGEST, size: EMPTY_JSON.length }, () => EMPTY_JSON);
  await registry.pushBlob(repo, bundleDesc, () => bundle);
  const manifest = bundleManifest({ bundle: bundleDesc, subject, created: options.created });
  const manifestDigest = sha256Digest(manifest);
  await registry.putManifest(repo, manifestDigest, manifest, OCI_MANIFEST);

  const check = await registry.getReferrers(repo, subject.digest, BUNDLE_V03_MEDIA_TYPE);
  if (check.supported) return { digest: manifestDigest, result: 'added', index: 'api' };

  const tag = referrersTag(subject.digest);
  const where = `${repoName(repo)}:${tag}`;
  const entry: Descriptor = {
    mediaType: OCI_MANIFEST,
    digest: manifestDigest,
    size: manifest.length,
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
      [BUNDLE_PREDICATE_ANNOTATION]: COSIGN_SIGN_PREDICATE,
      [CREATED_ANNOTATION]: rfc3339(options.created),
    },
  };
  await addToTag<Descriptor[]>({
    what: `sign ${where}`,
    signal: options.signal,
    read: async () => {
      const got = await registry.getManifest(repo, tag, [OCI_INDEX]);
      return got ? indexManifests(got.json, where) : undefined;
    },
    contains: (list) => (list ?? []).some((m) => m.digest === manifestDigest),
    write: async (list) => {
      const all = [...(list ?? []), entry];
      if (all.length > MAX_REFERRERS) throw new RelsignError(`sign ${where}: the referrers index already has ${MAX_REFERRERS} entries; no signature added`);
      const index = goJson({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: all,
      });
      await registry.putManifest(repo, tag, Buffer.from(index, 'utf8'), OCI_INDEX);
    },
  });
  return { digest: manifestDigest, result: 'added', index: 'tag' };
}
