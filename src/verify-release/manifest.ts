/**
 * The release manifest: an in-toto Statement v1 listing every asset of a
 * release (name, size, SHA-256, type, the assets that sign it), the images
 * pushed, and who signed it. This module defines the format and reads it,
 * strictly and bounded; the release manifest stage (src/stages/manifest.ts)
 * writes it (docs/verifying.md describes the format).
 */
import { checkArtifactName } from '../pipeline/artifact-name.js';
import { describeError, RelsignError } from '../util/errors.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const MANIFEST_PREDICATE_TYPE = 'https://relsign.dev/release-manifest/v1';
/** A manifest file larger than this is refused before it is read. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** At most this many subjects (GitHub allows 1000 assets; a manifest may list fewer than it could). */
export const MAX_SUBJECTS = 10_000;
/** The default manifest name pattern (`{{ .ProjectName }}_{{ .Version }}_manifest.json`). */
export const MANIFEST_SUFFIX = '_manifest.json';
/** The signature bundle beside a manifest. */
export const manifestBundleName = (manifest: string): string => `${manifest}.sigstore.json`;

export interface ManifestAsset {
  name: string;
  size: number;
  sha256: string;
  type: string;
  signatures: string[];
}

export interface ManifestImage {
  repository: string;
  digest: string;
  tags: string[];
  platforms: string[];
}

export type ManifestSigner = { kind: 'key'; publicKeySha256: string } | { kind: 'keyless'; identity: string; issuer: string };

export interface ReleaseManifest {
  project: string;
  repository: string;
  tag: string;
  version: string;
  commit: string;
  /** Subjects and assets, joined by name: one entry per asset. */
  assets: ManifestAsset[];
  images: ManifestImage[];
  /** Absent when the release had no in-process signer (an external command signed the manifest). */
  signer?: ManifestSigner;
}

const HEX64 = /^[0-9a-f]{64}$/;
const MAX_LIST = 1000;
const MAX_STRING = 4096;

class ManifestError extends RelsignError {}

/**
 * Parses and checks a manifest's bytes. Throws a one-line RelsignError naming
 * the field (`subject[3].digest.sha256`) and `source` (the file name).
 */
export function parseManifest(bytes: Uint8Array, source: string): ReleaseManifest {
  const bad = (where: string, what: string): never => {
    throw new ManifestError(`manifest ${source}: ${where}${where ? ' ' : ''}${what}`);
  };
  if (bytes.length > MAX_MANIFEST_BYTES) bad('', `is ${bytes.length} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes (4 MiB)`);
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    return bad('', `is not valid JSON (${describeError(err)})`);
  }
  const obj = (v: unknown, where: string): Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(where, 'must be a JSON object');
  const str = (v: unknown, where: string, pattern?: RegExp): string => {
    if (typeof v !== 'string') return bad(where, 'must be a string');
    if (v.length > MAX_STRING) return bad(where, `is longer than ${MAX_STRING} characters`);
    if (pattern && !pattern.test(v)) return bad(where, `${JSON.stringify(v.slice(0, 80))} is not valid`);
    return v;
  };
  const list = (v: unknown, where: string, max: number): unknown[] => {
    if (!Array.isArray(v)) return bad(where, 'must be a JSON array');
    if (v.length > max) return bad(where, `has ${v.length} entries; at most ${max} are allowed`);
    return v;
  };
  const name = (v: unknown, where: string): string => {
    const n = str(v, where);
    try {
      return checkArtifactName(n, `manifest ${source}: ${where}`);
    } catch (err) {
      throw new ManifestError(describeError(err));
    }
  };

  const st = obj(data, '');
  if (st._type !== STATEMENT_TYPE) bad('_type', `must be ${STATEMENT_TYPE}, got ${JSON.stringify(String(st._type).slice(0, 80))}`);
  if (st.predicateType !== MANIFEST_PREDICATE_TYPE) {
    bad('predicateType', `must be ${MANIFEST_PREDICATE_TYPE}, got ${JSON.stringify(String(st.predicateType).slice(0, 80))}`);
  }
  const subjects = list(st.subject, 'subject', MAX_SUBJECTS);
  const p = obj(st.predicate, 'predicate');
  const rawAssets = list(p.assets, 'predicate.assets', MAX_SUBJECTS);
  if (rawAssets.length !== subjects.length) bad('predicate.assets', `has ${rawAssets.length} entries, subject has ${subjects.length}; there must be one per subject`);

  const seen = new Set<string>();
  const assets: ManifestAsset[] = [];
  for (const [i, raw] of subjects.entries()) {
    const s = obj(raw, `subject[${i}]`);
    const n = name(s.name, `subject[${i}].name`);
    if (seen.has(n)) bad(`subject[${i}].name`, `${JSON.stringify(n)} is listed twice`);
    seen.add(n);
    const sha256 = str(obj(s.digest, `subject[${i}].digest`).sha256, `subject[${i}].digest.sha256`, HEX64);
    const a = obj(rawAssets[i], `predicate.assets[${i}]`);
    if (a.name !== n) bad(`predicate.assets[${i}].name`, `must be ${JSON.stringify(n)}, as subject[${i}]`);
    if (a.sha256 !== sha256) bad(`predicate.assets[${i}].sha256`, `must equal subject[${i}].digest.sha256`);
    if (typeof a.size !== 'number' || !Number.isSafeInteger(a.size) || a.size < 0) bad(`predicate.assets[${i}].size`, 'must be a non-negative integer');
    const type = str(a.type, `predicate.assets[${i}].type`);
    const signatures = list(a.signatures ?? [], `predicate.assets[${i}].signatures`, 16).map((x, j) => name(x, `predicate.assets[${i}].signatures[${j}]`));
    assets.push({ name: n, size: a.size as number, sha256, type, signatures });
  }
  for (const [i, a] of assets.entries()) {
    for (const [j, sig] of a.signatures.entries()) {
      if (!seen.has(sig)) bad(`predicate.assets[${i}].signatures[${j}]`, `names ${JSON.stringify(sig)}, which is not a subject`);
    }
  }

  const images: ManifestImage[] = list(p.images ?? [], 'predicate.images', MAX_LIST).map((raw, i) => {
    const im = obj(raw, `predicate.images[${i}]`);
    return {
      repository: str(im.repository, `predicate.images[${i}].repository`, /^[a-z0-9][a-z0-9._:/-]*$/),
      digest: str(im.digest, `predicate.images[${i}].digest`, /^sha256:[0-9a-f]{64}$/),
      tags: list(im.tags ?? [], `predicate.images[${i}].tags`, MAX_LIST).map((t, j) => str(t, `predicate.images[${i}].tags[${j}]`)),
      platforms: list(im.platforms ?? [], `predicate.images[${i}].platforms`, MAX_LIST).map((t, j) => str(t, `predicate.images[${i}].platforms[${j}]`)),
    };
  });

  let signer: ManifestSigner | undefined;
  const sg = p.signer === undefined ? undefined : obj(p.signer, 'predicate.signer');
  if (sg === undefined) signer = undefined;
  else if (sg.kind === 'key') signer = { kind: 'key', publicKeySha256: str(sg.publicKeySha256, 'predicate.signer.publicKeySha256', HEX64) };
  else if (sg.kind === 'keyless') signer = { kind: 'keyless', identity: str(sg.identity, 'predicate.signer.identity'), issuer: str(sg.issuer, 'predicate.signer.issuer') };
  else return bad('predicate.signer.kind', `must be "key" or "keyless", got ${JSON.stringify(String(sg.kind).slice(0, 40))}`);

  return {
    project: str(p.project, 'predicate.project'),
    repository: str(p.repository, 'predicate.repository'),
    tag: str(p.tag, 'predicate.tag'),
    version: str(p.version, 'predicate.version'),
    commit: str(p.commit, 'predicate.commit'),
    assets,
    images,
    ...(signer ? { signer } : {}),
  };
}
