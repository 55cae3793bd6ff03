/**
 * cosign's tag-based signature layout (cosign v1/v2 default; v3 falls back to
 * reading it): an OCI image manifest tagged `sha256-<hex>.sig` in the image's
 * repository, one layer per signature. Each layer is the simple-signing
 * payload; its signature is the layer annotation
 * `dev.cosignproject.cosign/signature`. New signatures are appended.
 */
import { createHash } from 'node:crypto';
import { RelsignError } from '../../util/errors.js';
import { DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST } from '../types.js';
import { goJson, sortedObject } from './gojson.js';
import { addToTag, repoName, signatureTag, type Descriptor, type RepoRef, type SignatureRegistry } from './registry.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const REKOR_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
/** cosign refuses to grow a signature image beyond this many layers. */
export const MAX_SIGNATURE_LAYERS = 1000;
const ZERO_TIME = '0001-01-01T00:00:00Z';

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The config blob cosign ≥ v2.2 writes: zero times, one history entry and one diff_id per layer. */
export function signatureConfig(layerDigests: readonly string[]): Buffer {
  return Buffer.from(
    goJson({
      architecture: '',
      created: ZERO_TIME,
      history: layerDigests.map(() => ({ created: ZERO_TIME })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layerDigests },
      config: {},
    }),
    'utf8',
  );
}

/** A descriptor in go-containerregistry's field order: mediaType, size, digest, annotations (sorted). */
function ggcrDescriptor(d: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: d.mediaType, size: d.size, digest: d.digest };
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = sortedObject(d.annotations);
  return out;
}

export function signatureManifest(config: { digest: string; size: number }, layers: readonly Descriptor[]): Buffer {
  return Buffer.from(
    goJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, size: config.size, digest: config.digest },
      layers: layers.map(ggcrDescriptor),
    }),
    'utf8',
  );
}

/** The layers of an existing signature manifest, checked; a one-line error when it is not one. */
export function signatureLayers(json: unknown, where: string): Descriptor[] {
  const bad = (why: string): never => {
    throw new RelsignError(`${where}: not a signature manifest: ${why}`);
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return bad('not a JSON object');
  const layers = (json as { layers?: unknown }).layers;
  if (!Array.isArray(layers)) return bad('no layers');
  if (layers.length > MAX_SIGNATURE_LAYERS) return bad(`more than ${MAX_SIGNATURE_LAYERS} layers`);
  return layers.map((l: unknown, i) => {
    const d = l as Partial<Descriptor> | null;
    if (!d || typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || typeof d.size !== 'number') {
      return bad(`layers[${i}] needs mediaType, digest and size`);
    }
    const annotations: Record<string, string> = {};
    if (d.annotations !== undefined) {
      if (d.annotations === null || typeof d.annotations !== 'object') return bad(`layers[${i}].annotations is not an object`);
      for (const [k, v] of Object.entries(d.annotations)) {
        if (typeof v !== 'string') return bad(`layers[${i}].annotations[${JSON.stringify(k)}] is not a string`);
        annotations[k] = v;
      }
    }
    return { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(Object.keys(annotations).length ? { annotations } : {}) };
  });
}

export interface LegacySignatureInput {
  payload: Buffer;
  /** base64 of the signature over the payload bytes. */
  signature: string;
  /** Extra layer annotations (certificate, bundle…); none for a key signature. */
  annotations?: Record<string, string>;
  /** Whether an existing layer's signature annotation verifies with the signing key (cosign's duplicate check). */
  verifiesWithKey(signatureB64: string): boolean;
}

/**
 * Adds one signature layer to `sha256-<hex>.sig`: appended to the existing
 * manifest (an identical layer signed by the same key is not added twice).
 */
export async function writeLegacySignature(
  registry: SignatureRegistry,
  repo: RepoRef,
  digest: string,
  input: LegacySignatureInput,
  options: { signal?: AbortSignal } = {},
): Promise<{ tag: string; result: 'added' | 'present' }> {
  const tag = signatureTag(digest);
  const where = `${repoName(repo)}:${tag}`;
  const payloadDigest = sha256Digest(input.payload);
  const layer: Descriptor = {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    digest: payloadDigest,
    size: input.payload.length,
    annotations: { ...(input.annotations ?? {}), [SIGNATURE_ANNOTATION]: input.signature },
  };
  const others = (a: Record<string, string> | undefined): string =>
    JSON.stringify(sortedObject(Object.fromEntries(Object.entries(a ?? {}).filter(([k]) => k !== SIGNATURE_ANNOTATION))));
  const ours = others(layer.annotations);
  const isOurs = (l: Descriptor): boolean =>
    l.digest === payloadDigest &&
    l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE &&
    others(l.annotations) === ours &&
    (l.annotations?.[SIGNATURE_ANNOTATION] === input.signature || input.verifiesWithKey(l.annotations?.[SIGNATURE_ANNOTATION] ?? ''));

  await registry.pushBlob(repo, { digest: payloadDigest, size: input.payload.length }, () => input.payload);
  const result = await addToTag<Descriptor[]>({
    what: `sign ${where}`,
    signal: options.signal,
    read: async () => {
      const got = await registry.getManifest(repo, tag, [OCI_MANIFEST, DOCKER_MANIFEST]);
      return got ? signatureLayers(got.json, where) : undefined;
    },
    contains: (layers) => (layers ?? []).some(isOurs),
    write: async (layers) => {
      const all = [...(layers ?? []), layer];
      if (all.length > MAX_SIGNATURE_LAYERS) {
        throw new RelsignError(`sign ${where}: the signature manifest already has ${MAX_SIGNATURE_LAYERS} layers (cosign's limit); no signature added`);
      }
      const config = signatureConfig(all.map((l) => l.digest));
      const configDesc = { digest: sha256Digest(config), size: config.length };
      await registry.pushBlob(repo, configDesc, () => config);
      await registry.putManifest(repo, tag, signatureManifest(configDesc, all), OCI_MANIFEST);
    },
  });
  return { tag, result };
}
