/**
 * The checks of `relsign verify-release`, over assets already collected
 * (source.ts): the manifest's signature and contents, every asset against the
 * manifest and the checksums file, every asset's own signature or bundle,
 * nothing unlisted and nothing missing, the images the manifest lists. The
 * result is a report (report.ts prints it); nothing here exits or prints.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CompiledIdentityPolicy } from '../sigstore/certificate-identity.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, parseDsseBundle } from '../sigstore/dsse.js';
import { publicKeyDer } from '../sigstore/keys.js';
import { MAX_BUNDLE_BYTES, MAX_SIGNATURE_BYTES } from '../sigstore/limits.js';
import { verifyBlob } from '../sigstore/verify.js';
import { verifySigstoreBundle } from '../sigstore/verify-bundle.js';
import { signatureVerifies, verifyImage } from '../oci/verify.js';
import { parseReference, repositoryName } from '../oci/reference.js';
import type { SignatureRegistry } from '../oci/sign/registry.js';
import { describeError } from '../util/errors.js';
import { looksLikeChecksums, MAX_CHECKSUMS_BYTES, parseChecksums } from './checksums.js';
import { MANIFEST_SUFFIX, manifestBundleName, MAX_MANIFEST_BYTES, parseManifest, type ReleaseManifest } from './manifest.js';
import type { CollectedRelease, LocalAsset, Problem } from './source.js';

export interface VerifyReleaseOptions {
  /** The public key; or `identity` for keyless. */
  key?: { key: KeyObject; source: string };
  identity?: CompiledIdentityPolicy;
  /** cosign --insecure-ignore-tlog: bundles are checked against the key or certificate only. */
  ignoreTlog?: boolean;
  getTrustedRoot?: () => Promise<unknown>;
  trustedRootSource?: string;
  /** The manifest's asset name, when it does not end in `_manifest.json`. */
  manifestName?: string;
  /** An asset nothing verifies is reported, but does not fail the verdict. */
  allowUnsigned?: boolean;
  /** Do not contact registries for the images the manifest lists. */
  skipImages?: boolean;
  /** The registry client for image checks (made only when an image is checked). */
  registry?: (host: string) => Promise<SignatureRegistry>;
}

export type RowStatus = 'ok' | 'failed' | 'unverified';

export interface AssetRow {
  name: string;
  size?: number;
  sha256?: string;
  /** The relsign artifact type, from the manifest. */
  type?: string;
  status: RowStatus;
  /** What vouches for it: `manifest`, `checksums`, a signature's name, `signs X`. */
  verifiedBy: string[];
  signer?: string;
  problems: string[];
}

export interface ImageRow {
  reference: string;
  status: RowStatus;
  signer?: string;
  problems: string[];
}

export interface ReleaseReport {
  source: string;
  manifest?: {
    name: string;
    verified: boolean;
    project?: string;
    repository?: string;
    tag?: string;
    version?: string;
    commit?: string;
  };
  checksums: string[];
  signer: string;
  assets: AssetRow[];
  images: ImageRow[];
  /** One line each, naming the asset (or image) first. */
  problems: Problem[];
  notes: string[];
  ok: boolean;
}

const SIGNATURE_SUFFIXES = ['.sig', '.sigstore.json', '.bundle'] as const;
const CERTIFICATE_SUFFIXES = ['.pem', '.crt', '.cert'] as const;

/** `key SHA256:<hex>`: the SHA-256 of the key's DER SubjectPublicKeyInfo, as the manifest records it. */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(publicKeyDer(key)).digest('hex');
}

export async function verifyRelease(release: CollectedRelease, o: VerifyReleaseOptions): Promise<ReleaseReport> {
  const fingerprint = o.key ? keyFingerprint(o.key.key) : undefined;
  const signerLabel = o.key ? `key SHA256:${fingerprint!.slice(0, 16)}` : 'keyless';
  const rows = new Map<string, AssetRow>();
  const byName = new Map<string, LocalAsset>();
  const problems: Problem[] = [];
  const notes: string[] = [];
  const report: ReleaseReport = { source: release.label, checksums: [], signer: signerLabel, assets: [], images: [], problems, notes, ok: false };
  const fail = (subject: string, reason: string): void => {
    problems.push({ subject, reason });
    rows.get(subject)?.problems.push(reason);
  };
  for (const a of release.assets) {
    byName.set(a.name, a);
    rows.set(a.name, { name: a.name, size: a.size, sha256: a.sha256, status: 'ok', verifiedBy: [], problems: [] });
  }
  // Assets that could not be read or downloaded: a row each, failed.
  for (const p of release.problems) {
    if (!rows.has(p.subject)) rows.set(p.subject, { name: p.subject, status: 'failed', verifiedBy: [], problems: [] });
    fail(p.subject, p.reason);
  }
  const unreadable = new Set(release.problems.map((p) => p.subject));
  const vouch = (name: string, by: string, signer?: string): void => {
    const row = rows.get(name);
    if (!row) return;
    if (!row.verifiedBy.includes(by)) row.verifiedBy.push(by);
    if (signer && !row.signer) row.signer = signer;
  };

  // 1. The manifest.
  const manifestName = findManifest(release, o, fail);
  let manifest: ReleaseManifest | undefined;
  let manifestTrusted = false;
  const special = new Set<string>();
  if (manifestName !== undefined) {
    const bundleName = manifestBundleName(manifestName);
    // The manifest does not list itself nor what signs it (a bundle; a .sig and .pem from an external signer).
    special.add(manifestName).add(bundleName);
    for (const s of ['.sig', ...CERTIFICATE_SUFFIXES]) if (byName.has(manifestName + s)) special.add(manifestName + s);
    const detached = byName.get(`${manifestName}.sig`);
    const m = byName.get(manifestName);
    report.manifest = { name: manifestName, verified: false };
    let bytes: Buffer | undefined;
    if (!m) {
      // Not downloaded or not readable: its row already says why.
    } else if (m.size > MAX_MANIFEST_BYTES) fail(manifestName, `is ${m.size} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes (4 MiB)`);
    else bytes = await readFile(m.path);
    if (bytes) {
      try {
        manifest = parseManifest(bytes, manifestName);
        Object.assign(report.manifest, {
          project: manifest.project,
          repository: manifest.repository,
          tag: manifest.tag,
          version: manifest.version,
          commit: manifest.commit,
        });
      } catch (err) {
        fail(manifestName, describeError(err).replace(`manifest ${manifestName}: `, ''));
      }
    }
    const b = byName.get(bundleName);
    let signed: { signer: string; identity?: { san: string; issuer?: string } } | undefined;
    if (!b && detached && o.key && bytes && m) {
      // Signed by an external command: a detached signature over the manifest file.
      const r = await verifyAssetSignature(m, detached, o);
      if (r.ok) signed = { signer: `key SHA256:${fingerprint!.slice(0, 16)}` };
      else fail(manifestName, `${detached.name}: ${r.reason}`);
    } else if (!b) {
      if (!unreadable.has(bundleName)) fail(manifestName, `its signature bundle ${bundleName} is not in the release`);
    } else if (b.size > MAX_BUNDLE_BYTES) {
      fail(bundleName, `is ${b.size} bytes; a bundle may be at most ${MAX_BUNDLE_BYTES} bytes`);
    } else if (bytes) {
      try {
        signed = await verifyManifestBundle((await readFile(b.path)).toString('utf8'), bytes, bundleName, manifestName, o);
      } catch (err) {
        fail(manifestName, `${bundleName}: ${describeError(err)}`);
      }
    }
    if (signed && manifest) {
      const mismatch = signerMismatch(manifest, fingerprint, signed.identity);
      if (mismatch) fail(manifestName, mismatch);
      if (release.repository !== undefined && manifest.repository.toLowerCase() !== release.repository.toLowerCase()) {
        fail(manifestName, `is for repository ${JSON.stringify(manifest.repository)}, not ${release.repository}`);
      }
      if (release.tag !== undefined && manifest.tag !== release.tag) fail(manifestName, `is for tag ${JSON.stringify(manifest.tag)}, not ${release.tag}`);
      manifestTrusted = !rows.get(manifestName)!.problems.length;
    }
    if (manifestTrusted) {
      report.manifest.verified = true;
      const by = b ? bundleName : detached!.name;
      vouch(manifestName, by, signed!.signer);
      for (const s of special) if (s !== manifestName && byName.has(s)) vouch(s, `signs ${manifestName}`, signed!.signer);
    }
  }

  // 2. Every asset against the manifest; nothing unlisted, nothing missing.
  const listed = new Map((manifest?.assets ?? []).map((a) => [a.name, a]));
  if (manifest) {
    for (const row of rows.values()) {
      if (special.has(row.name) || unreadable.has(row.name)) continue;
      const entry = listed.get(row.name);
      if (!entry) {
        fail(row.name, `is not listed in the manifest ${manifestName}`);
        continue;
      }
      row.type = entry.type;
      if (entry.sha256 !== row.sha256) fail(row.name, `sha256 ${row.sha256} does not match the manifest's ${entry.sha256} (modified after signing?)`);
      else if (entry.size !== row.size) fail(row.name, `is ${row.size} bytes, the manifest lists ${entry.size}`);
      else if (manifestTrusted) vouch(row.name, 'manifest', rows.get(manifestName!)?.signer);
    }
    for (const entry of manifest.assets) {
      if (special.has(entry.name)) fail(manifestName!, `lists ${entry.name}, which must not be a subject of itself`);
      else if (!rows.has(entry.name)) fail(entry.name, `is listed in the manifest ${manifestName} but missing from the release`);
    }
  }

  // 3. Every asset's own signatures.
  const signatureOf = new Map<string, string>(); // signature asset → the asset it signs
  for (const asset of release.assets) {
    if (special.has(asset.name)) continue;
    const candidates = new Set(SIGNATURE_SUFFIXES.map((s) => asset.name + s).filter((n) => byName.has(n) || unreadable.has(n)));
    for (const s of listed.get(asset.name)?.signatures ?? []) candidates.add(s);
    for (const sigName of candidates) {
      const sig = byName.get(sigName);
      signatureOf.set(sigName, asset.name);
      if (!sig) {
        if (!unreadable.has(sigName)) fail(asset.name, `its signature ${sigName} (listed in the manifest) is missing`);
        continue;
      }
      if (CERTIFICATE_SUFFIXES.some((s) => sigName.endsWith(s))) continue;
      const r = await verifyAssetSignature(asset, sig, o);
      if (r.ok) {
        vouch(asset.name, sigName, r.signer ?? signerLabel);
        vouch(sigName, `signs ${asset.name}`, r.signer ?? signerLabel);
        for (const c of CERTIFICATE_SUFFIXES) if (sigName.endsWith('.sig') && byName.has(asset.name + c)) vouch(asset.name + c, `signs ${asset.name}`);
      } else if (r.skipped) {
        notes.push(`${asset.name}: ${sigName} not checked: ${r.reason}`);
      } else {
        fail(asset.name, `${sigName}: ${r.reason}`);
      }
    }
  }

  // 4. The checksums file(s).
  const checksumFiles = [...rows.values()]
    .filter((r) => byName.has(r.name) && !special.has(r.name) && (listed.get(r.name)?.type === 'checksum' || (!manifest && looksLikeChecksums(r.name))))
    .map((r) => r.name);
  if (manifest && checksumFiles.length === 0) for (const r of rows.values()) if (byName.has(r.name) && looksLikeChecksums(r.name) && !special.has(r.name)) checksumFiles.push(r.name);
  for (const file of checksumFiles) {
    report.checksums.push(file);
    const asset = byName.get(file)!;
    if (asset.size > MAX_CHECKSUMS_BYTES) {
      fail(file, `is ${asset.size} bytes; a checksums file may be at most ${MAX_CHECKSUMS_BYTES} bytes`);
      continue;
    }
    let entries: Map<string, string>;
    try {
      entries = parseChecksums((await readFile(asset.path)).toString('utf8'), file);
    } catch (err) {
      fail(file, describeError(err).replace(`${file}: `, ''));
      continue;
    }
    const fileRow = rows.get(file)!;
    const trusted = fileRow.problems.length === 0 && fileRow.verifiedBy.length > 0;
    for (const [name, hex] of entries) {
      const row = rows.get(name);
      if (!row) {
        fail(name, `is listed in ${file} but missing from the release`);
        continue;
      }
      if (!row.sha256) continue; // not downloaded: reported already
      if (row.sha256 !== hex) fail(name, `sha256 ${row.sha256} does not match ${file}'s ${hex}`);
      else if (trusted) vouch(name, 'checksums', fileRow.signer);
    }
  }

  // 5. Images, by digest, as `relsign verify` checks them.
  if (manifest && manifest.images.length > 0) {
    if (o.skipImages) notes.push(`${manifest.images.length} image(s) listed in the manifest not checked (--skip-images)`);
    else if (!manifestTrusted) notes.push('images not checked: the manifest did not verify');
    else for (const im of manifest.images) report.images.push(await checkImage(im.repository, im.digest, o, fail));
  }

  // 6. Status of each row; an asset nothing verifies.
  for (const row of rows.values()) {
    if (row.problems.length > 0) row.status = 'failed';
    else if (row.verifiedBy.length > 0) row.status = 'ok';
    else {
      row.status = 'unverified';
      // When a manifest exists but failed, its failure already says why nothing is vouched for.
      const manifestFailed = manifestName !== undefined && !manifestTrusted;
      if (manifestFailed) continue;
      const target = signatureOf.get(row.name);
      if (target !== undefined && rows.get(target)?.problems.length) {
        row.status = 'failed'; // the signed asset's row says why
        continue;
      }
      const orphan = target === undefined ? [...SIGNATURE_SUFFIXES, ...CERTIFICATE_SUFFIXES].find((s) => row.name.endsWith(s) && !rows.has(row.name.slice(0, -s.length))) : undefined;
      const what =
        target !== undefined
          ? `its signature of ${target} was not checked`
          : orphan !== undefined
            ? `it signs ${row.name.slice(0, -orphan.length)}, which is not in the release`
            : 'no signature, and not in a signed manifest or checksums file';
      if (o.allowUnsigned) notes.push(`${row.name}: unverified (${what}); allowed by --allow-unsigned`);
      else fail(row.name, `nothing verifies it: ${what}`);
    }
  }
  for (const row of rows.values()) if (row.problems.length > 0) row.status = 'failed';
  report.assets = [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  report.ok = problems.length === 0;
  return report;
}

function findManifest(release: CollectedRelease, o: VerifyReleaseOptions, fail: (s: string, r: string) => void): string | undefined {
  // Assets that could not be read still count: a manifest that failed to download is not "no manifest".
  const names = [...release.assets.map((a) => a.name), ...release.problems.map((p) => p.subject)];
  if (o.manifestName !== undefined) {
    if (names.includes(o.manifestName)) return o.manifestName;
    fail(o.manifestName, 'the manifest (--manifest) is not in the release');
    return undefined;
  }
  const found = [...new Set(names.filter((n) => n.endsWith(MANIFEST_SUFFIX)))];
  if (found.length > 1) {
    fail(found[0]!, `the release has ${found.length} manifests (${found.slice(0, 3).join(', ')}${found.length > 3 ? ', …' : ''}); name one with --manifest`);
    return undefined;
  }
  return found[0];
}

/** The manifest's `predicate.signer` must name the key (or identity) that verified it. */
function signerMismatch(m: ReleaseManifest, fingerprint: string | undefined, identity: { san: string; issuer?: string } | undefined): string | undefined {
  if (!m.signer) return fingerprint !== undefined ? undefined : 'predicate.signer is missing: the manifest does not say which identity signed it';
  if (fingerprint !== undefined) {
    if (m.signer.kind !== 'key') return `predicate.signer says keyless (${m.signer.identity}), but a key signed it`;
    if (m.signer.publicKeySha256 !== fingerprint) return `predicate.signer.publicKeySha256 is ${m.signer.publicKeySha256}, but the key given is ${fingerprint}`;
    return undefined;
  }
  if (m.signer.kind !== 'keyless') return 'predicate.signer names a key, but a certificate signed it';
  if (identity && (m.signer.identity !== identity.san || (identity.issuer !== undefined && m.signer.issuer !== identity.issuer))) {
    return `predicate.signer names ${m.signer.identity} (${m.signer.issuer}), but the certificate names ${identity.san} (${identity.issuer ?? 'no issuer'})`;
  }
  return undefined;
}

/**
 * The manifest's bundle: a DSSE envelope whose payload is exactly the
 * manifest file's bytes, signed by the key (PAE) or by a certificate that
 * matches the identity policy; its log entry checked unless `ignoreTlog`.
 */
export async function verifyManifestBundle(
  bundleText: string,
  manifestBytes: Buffer,
  bundleName: string,
  manifestName: string,
  o: VerifyReleaseOptions,
): Promise<{ signer: string; identity?: { san: string; issuer?: string } }> {
  const bundle = parseDsseBundle(bundleText);
  if (typeof bundle === 'string') throw new Error(bundle);
  if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new Error(`DSSE payloadType ${JSON.stringify(bundle.payloadType.slice(0, 80))} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  if (!bundle.payload.equals(manifestBytes)) throw new Error(`the bundle signs other bytes than ${manifestName} (the manifest was modified, or the bundle is another release's)`);
  if (bundle.signatures.length !== 1) throw new Error(`the DSSE envelope must carry exactly one signature, it has ${bundle.signatures.length}`);
  const root = async () => {
    if (!o.getTrustedRoot) throw new Error('no trusted root to check the bundle against: pass --trusted-root trusted_root.json');
    return o.getTrustedRoot();
  };
  if (o.key) {
    if (!signatureVerifies(o.key.key, pae(bundle.payloadType, bundle.payload), bundle.signatures[0]!)) {
      throw new Error(
        bundle.hasCertificate
          ? `signed with a certificate (keyless), not with ${o.key.source}; verify with --certificate-identity … --certificate-oidc-issuer …`
          : `the manifest's signature does not verify with ${o.key.source} (signed by another key?)`,
      );
    }
    if (!o.ignoreTlog) {
      if (bundle.tlogEntries === 0) throw new Error('the bundle has no transparency-log entry; pass --insecure-ignore-tlog to check the signature against the key only');
      await verifySigstoreBundle({
        bundle: JSON.parse(bundleText) as Record<string, unknown>,
        bundleSource: bundleName,
        artifact: Buffer.alloc(0),
        skipSubjectCheck: true,
        trustedRoot: await root(),
        trustedRootSource: o.trustedRootSource,
        key: o.key,
      });
    }
    return { signer: `key SHA256:${keyFingerprint(o.key.key).slice(0, 16)}` };
  }
  if (!bundle.hasCertificate) throw new Error('signed with a key, not a certificate: verify with --key');
  const r = await verifySigstoreBundle({
    bundle: JSON.parse(bundleText) as Record<string, unknown>,
    bundleSource: bundleName,
    artifact: manifestBytes,
    skipSubjectCheck: true,
    trustedRoot: await root(),
    trustedRootSource: o.trustedRootSource,
    identity: o.identity,
    ignoreTlog: o.ignoreTlog,
  });
  const san = r.signer?.subjectAlternativeNames[0] ?? 'unknown identity';
  return { signer: san, identity: { san, issuer: r.signer?.issuer } };
}

type SignatureCheck = { ok: true; signer?: string } | { ok: false; skipped?: boolean; reason: string };

/**
 * An asset's own signature: a `.sig` (base64 or raw, as cosign writes) is
 * checked against the key only (a detached signature carries no log entry to
 * check offline); a bundle fully, its log entry included unless `ignoreTlog`.
 */
async function verifyAssetSignature(asset: LocalAsset, sig: LocalAsset, o: VerifyReleaseOptions): Promise<SignatureCheck> {
  try {
    if (sig.name.endsWith('.sig')) {
      if (!o.key) return { ok: false, skipped: true, reason: 'a detached signature is checked with --key; keyless verification needs its bundle (.sigstore.json)' };
      if (sig.size > MAX_SIGNATURE_BYTES) return { ok: false, reason: `is ${sig.size} bytes, too large for a signature` };
      await verifyBlob(asset.path, { publicKey: o.key.key, keySource: o.key.source, signature: await readFile(sig.path), signatureSource: sig.name, ignoreTlog: true });
      return { ok: true };
    }
    if (sig.size > MAX_BUNDLE_BYTES) return { ok: false, reason: `is ${sig.size} bytes; a bundle may be at most ${MAX_BUNDLE_BYTES} bytes` };
    const r = await verifyBlob(asset.path, {
      publicKey: o.key?.key,
      keySource: o.key?.source,
      identity: o.identity,
      bundle: (await readFile(sig.path)).toString('utf8'),
      bundleSource: sig.name,
      ignoreTlog: o.ignoreTlog,
      getTrustedRoot: o.getTrustedRoot,
      trustedRootSource: o.trustedRootSource,
    });
    return { ok: true, signer: r.signer?.subjectAlternativeNames[0] };
  } catch (err) {
    return { ok: false, reason: describeError(err).replace(asset.path, asset.name) };
  }
}

async function checkImage(repository: string, digest: string, o: VerifyReleaseOptions, fail: (s: string, r: string) => void): Promise<ImageRow> {
  const reference = `${repository}@${digest}`;
  const row: ImageRow = { reference, status: 'ok', problems: [] };
  try {
    const ref = parseReference(reference);
    if (!o.registry) throw new Error('no registry client');
    const verified = await verifyImage({
      registry: await o.registry(ref.registry),
      repo: { registry: ref.registry, repository: ref.repository },
      dockerReference: repositoryName(ref),
      digest,
      key: o.key,
      identity: o.identity,
      ignoreTlog: o.ignoreTlog,
      getTrustedRoot: o.getTrustedRoot,
      trustedRootSource: o.trustedRootSource,
    });
    row.signer = `${verified.length} signature(s)`;
  } catch (err) {
    row.status = 'failed';
    const reason = describeError(err);
    row.problems.push(reason);
    fail(reference, reason);
  }
  return row;
}
