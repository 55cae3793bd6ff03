/**
 * What cosign signs for an image:
 *
 * - legacy layout: the "simple signing" payload (sigstore `payload.Cosign`), Go
 *   `json.Marshal` of a struct, so field order is fixed and `optional` is the
 *   `-a` map (sorted) or `null`;
 * - referrers layout (cosign v3): an in-toto v1 statement with one subject, the
 *   image digest, and predicate type `https://sigstore.dev/cosign/sign/v1`.
 */
import { goJson, sortedObject } from './gojson.js';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isSha256Digest(digest: string): boolean {
  return DIGEST_RE.test(digest);
}

/** The payload bytes, byte-identical to cosign's for the same digest, repository and annotations. */
export function simpleSigningPayload(options: { digest: string; dockerReference: string; annotations?: Record<string, string> }): Buffer {
  const ann = options.annotations && Object.keys(options.annotations).length > 0 ? sortedObject(options.annotations) : null;
  return Buffer.from(
    goJson({
      critical: {
        identity: { 'docker-reference': options.dockerReference },
        image: { 'docker-manifest-digest': options.digest },
        type: SIMPLE_SIGNING_TYPE,
      },
      optional: ann,
    }),
    'utf8',
  );
}

export interface SimpleSigningPayload {
  dockerReference: string;
  digest: string;
  optional: Record<string, unknown> | null;
}

/**
 * Parses a payload strictly, as containers/image does: `critical` has exactly
 * type/image/identity, the type is cosign's, `optional` is null or an object.
 * Returns a reason string when the payload is not acceptable.
 */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload | string {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return 'the payload is not JSON';
  }
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const exactly = (o: Record<string, unknown>, keys: string[]): boolean => {
    const have = Object.keys(o).sort();
    return have.length === keys.length && keys.slice().sort().every((k, i) => have[i] === k);
  };
  if (!isObj(data)) return 'the payload is not a JSON object';
  const critical = data.critical;
  if (!isObj(critical) || !exactly(critical, ['identity', 'image', 'type'])) return 'payload "critical" must have exactly identity, image and type';
  if (critical.type !== SIMPLE_SIGNING_TYPE) return `payload type ${JSON.stringify(critical.type)} is not ${JSON.stringify(SIMPLE_SIGNING_TYPE)}`;
  const image = critical.image;
  if (!isObj(image) || !exactly(image, ['docker-manifest-digest']) || typeof image['docker-manifest-digest'] !== 'string') {
    return 'payload "critical.image" must have exactly a docker-manifest-digest string';
  }
  const identity = critical.identity;
  if (!isObj(identity) || !exactly(identity, ['docker-reference']) || typeof identity['docker-reference'] !== 'string') {
    return 'payload "critical.identity" must have exactly a docker-reference string';
  }
  const optional = data.optional;
  if (optional !== undefined && optional !== null && !isObj(optional)) return 'payload "optional" must be null or an object';
  return {
    dockerReference: identity['docker-reference'],
    digest: image['docker-manifest-digest'],
    optional: (optional as Record<string, unknown> | null | undefined) ?? null,
  };
}

/** The in-toto statement cosign v3 signs for an image (protojson field order). */
export function signStatement(options: { digest: string; annotations?: Record<string, string> }): Buffer {
  const hex = options.digest.slice('sha256:'.length);
  const subject: Record<string, unknown> = { digest: { sha256: hex } };
  if (options.annotations && Object.keys(options.annotations).length > 0) subject.annotations = sortedObject(options.annotations);
  return Buffer.from(goJson({ _type: STATEMENT_TYPE, subject: [subject], predicateType: COSIGN_SIGN_PREDICATE, predicate: {} }), 'utf8');
}

export interface SignStatement {
  predicateType: string;
  subjects: Array<{ sha256?: string; annotations: Record<string, unknown> | null }>;
}

/** Parses an in-toto v1 statement; a reason string when it is not one. */
export function parseStatement(bytes: Uint8Array): SignStatement | string {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return 'the statement is not JSON';
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'the statement is not a JSON object';
  const s = data as Record<string, unknown>;
  if (s._type !== STATEMENT_TYPE) return `statement _type ${JSON.stringify(s._type)} is not ${STATEMENT_TYPE}`;
  if (typeof s.predicateType !== 'string') return 'statement predicateType is missing';
  if (!Array.isArray(s.subject) || s.subject.length === 0 || s.subject.length > 1000) return 'statement subject must be a non-empty list';
  const subjects: SignStatement['subjects'] = [];
  for (const sub of s.subject as unknown[]) {
    if (sub === null || typeof sub !== 'object') return 'a statement subject is not an object';
    const d = (sub as { digest?: unknown }).digest;
    const sha = d && typeof d === 'object' && typeof (d as { sha256?: unknown }).sha256 === 'string' ? (d as { sha256: string }).sha256 : undefined;
    const ann = (sub as { annotations?: unknown }).annotations;
    subjects.push({ sha256: sha, annotations: ann && typeof ann === 'object' && !Array.isArray(ann) ? (ann as Record<string, unknown>) : null });
  }
  return { predicateType: s.predicateType, subjects };
}

/**
 * cosign's `-a` check: every wanted key must be in `optional` with an equal
 * string value (a JSON number 1 never equals "1"; `optional: null` matches
 * nothing). Returns the first mismatch, or undefined.
 */
export function annotationMismatch(optional: Record<string, unknown> | null, wanted: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(wanted)) {
    const have = optional && Object.prototype.hasOwnProperty.call(optional, k) ? optional[k] : undefined;
    if (have === undefined) return `annotation ${JSON.stringify(k)} is missing`;
    if (have !== v) return `annotation ${JSON.stringify(k)} is ${JSON.stringify(have)}, want ${JSON.stringify(v)}`;
  }
  return undefined;
}
