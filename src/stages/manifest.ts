/**
 * The signed release manifest: an in-toto Statement v1 whose subjects are
 * every asset the release uploads (except the manifest and its bundle), with
 * a predicate naming the project, tag, commit, assets (size, sha256, type,
 * the assets that sign each one), pushed images and the signer. It is signed
 * as a DSSE envelope in a Sigstore bundle v0.3 (`<name>.sigstore.json`), as
 * `cosign attest-blob --new-bundle-format` writes one, so
 * `cosign verify-blob-attestation` checks any single asset against it.
 *
 * The manifest holds no time: re-running the release of one commit writes
 * the same bytes. Its bundle differs per run (ECDSA signatures are randomised).
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { SignConfig } from '../config/types.js';
import { checkArtifactName } from '../pipeline/artifact-name.js';
import type { Artifact } from '../pipeline/artifacts.js';
import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { render, renderFlag } from '../pipeline/template-data.js';
import { IN_TOTO_PAYLOAD_TYPE, makeDsseBundle, pae } from '../sigstore/dsse.js';
import type { Signer } from '../sigstore/index.js';
import type { CertifiedKey, SigstoreClient } from '../sigstore/services.js';
import { mapLimit } from '../util/concurrency.js';
import { RelsignError } from '../util/errors.js';
import { hashFile } from '../util/fs.js';
import {
  MANIFEST_PREDICATE_TYPE,
  MAX_MANIFEST_BYTES,
  MAX_SUBJECTS,
  STATEMENT_TYPE,
  manifestBundleName,
  type ManifestAsset,
  type ManifestImage,
  type ManifestSigner,
  type ReleaseManifest,
} from '../verify-release/manifest.js';
import { releaseArtifacts, resolveRepository } from './release.js';
import { BuiltinSigners } from './sign/builtin.js';
import { recordSignatureCheck, type SignatureVerifier } from './sign/checks.js';
import { signWithCommand } from './sign/cmd.js';
import { cosignEntrySigner, cosignInProcess } from './sign/cosign.js';
import { SignResolver } from './sign/resolve.js';

/** The statement a manifest file holds: subjects for in-toto tools, the rest in the predicate. */
export interface ManifestStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof MANIFEST_PREDICATE_TYPE;
  predicate: ReleaseManifest;
}

/** The manifest's bytes: 2-space indented JSON with a trailing newline, keys in the order built. */
export function manifestBytes(m: ManifestStatement): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8');
}

/** Builds the statement from assets already measured; subjects and assets sorted by name (JS string order). */
export function buildManifest(input: ReleaseManifest): ManifestStatement {
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const assets = [...input.assets].sort(byName).map((a) => ({ ...a, signatures: [...a.signatures].sort() }));
  return {
    _type: STATEMENT_TYPE,
    subject: assets.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
    predicateType: MANIFEST_PREDICATE_TYPE,
    predicate: {
      project: input.project,
      repository: input.repository,
      tag: input.tag,
      version: input.version,
      commit: input.commit,
      assets,
      images: input.images,
      ...(input.signer ? { signer: input.signer } : {}),
    },
  };
}

/** Pushed images, one per repository and image (the index when there is one), in registry order. */
export function manifestImages(ctx: Context): ManifestImage[] {
  const pushed = ctx.artifacts.filter({ types: ['image', 'manifest'], where: (a) => a.extra.pushed === true });
  const out: ManifestImage[] = [];
  const seen = new Set<string>();
  const keyOf = (a: Artifact) => `${String(a.extra.repository)}|${String(a.extra.id)}`;
  for (const a of pushed) {
    const key = keyOf(a);
    if (a.type === 'image' && pushed.some((m) => m.type === 'manifest' && keyOf(m) === key)) continue;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      repository: String(a.extra.repository),
      digest: String(a.extra.digest),
      tags: Array.isArray(a.extra.tags) ? (a.extra.tags as unknown[]).map(String) : [],
      platforms: a.type === 'manifest' ? ((a.extra.platforms as string[] | undefined) ?? []).map(String) : [String(a.extra.platform)],
    });
  }
  return out;
}

/** How the manifest is signed: the first signs entry relsign signs in-process, else the first external one. */
interface ManifestSigning {
  cfg: SignConfig;
  where: string;
  mode: 'builtin' | 'cosign' | 'external';
}

async function chooseSigning(ctx: Context): Promise<ManifestSigning | undefined> {
  if (ctx.options.skip.has('sign')) return undefined;
  const entries = ctx.config.signs.map((cfg, i) => ({ cfg, where: `signs[${i}]` })).filter((e) => e.cfg.artifacts !== 'none');
  for (const { cfg, where } of entries) {
    if (cfg.signer === 'builtin' || cfg.signer === 'keyless') return { cfg, where, mode: 'builtin' };
    if (await cosignInProcess(ctx, cfg)) return { cfg, where, mode: 'cosign' };
  }
  const first = entries[0];
  return first ? { ...first, mode: 'external' } : undefined;
}

/** The in-process signing identity for the manifest, resolved before the manifest is built (it names the signer). */
type InProcessIdentity = { kind: 'key'; signer: Signer; tlog?: SigstoreClient } | { kind: 'keyless'; cert: CertifiedKey; sigstore: SigstoreClient };

async function inProcessIdentity(ctx: Context, s: ManifestSigning, builtin: BuiltinSigners, manifest: Artifact): Promise<InProcessIdentity> {
  if (s.mode === 'cosign') {
    // A pasted cosign command run in-process records nothing in Rekor (as its own signatures).
    return { kind: 'key', signer: await cosignEntrySigner(ctx, s.cfg, s.where, new SignResolver(ctx, s.cfg, s.where, manifest), builtin) };
  }
  const id = await builtin.identityFor(s.cfg, s.where);
  if (id.kind === 'key') return id;
  return { kind: 'keyless', cert: await id.sigstore.certifiedKey(), sigstore: id.sigstore };
}

function signerOf(id: InProcessIdentity): ManifestSigner {
  return id.kind === 'key'
    ? { kind: 'key', publicKeySha256: createHash('sha256').update(id.signer.publicKeyDer).digest('hex') }
    : { kind: 'keyless', identity: id.cert.identity, issuer: id.cert.issuer };
}

/** DSSE over the manifest bytes, in a Sigstore bundle v0.3; logged in Rekor when the identity does. */
async function dsseBundle(id: InProcessIdentity, payload: Buffer): Promise<string> {
  const signer = id.kind === 'key' ? id.signer : id.cert.signer;
  const tlog = id.kind === 'key' ? id.tlog : id.sigstore;
  const sig = await signer.signBytes(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  let tlogEntries: TransparencyLogEntry[] = [];
  let timestamps: Buffer[] = [];
  if (tlog) {
    const envelope = { payload, payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.signature, keyid: '' }] };
    tlogEntries = [await tlog.logDsse(envelope, id.kind === 'key' ? id.signer.publicKeyPem : id.cert.certificatePem)];
    const ts = await tlog.timestamp(sig.signature);
    if (ts) timestamps = [ts];
  }
  const bundle = makeDsseBundle({
    payload,
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    signature: sig.signature,
    ...(id.kind === 'key' ? { keyHint: id.signer.keyHint } : {}),
    material: { ...(id.kind === 'keyless' ? { certificateDer: id.cert.certificateDer } : {}), tlogEntries, timestamps },
  });
  return JSON.stringify(bundle);
}

/** Measures each asset (streamed sha256) and lists the assets that sign it. */
async function measure(ctx: Context, assets: readonly Artifact[]): Promise<ManifestAsset[]> {
  if (assets.length > MAX_SUBJECTS) {
    throw new RelsignError(`release.manifest: ${assets.length} assets, but a manifest lists at most ${MAX_SUBJECTS}`);
  }
  const names = new Set<string>();
  for (const a of assets) {
    checkArtifactName(a.name, `release asset ${a.path}`);
    if (names.has(a.name)) throw new RelsignError(`release.manifest: asset name ${a.name} is used twice`);
    names.add(a.name);
  }
  const signedBy = new Map<string, string[]>();
  for (const a of assets) {
    const target = a.extra.signedArtifact;
    if (a.type !== 'signature' || typeof target !== 'string' || !names.has(target)) continue;
    signedBy.set(target, [...(signedBy.get(target) ?? []), a.name]);
  }
  return mapLimit(
    assets,
    Math.max(1, ctx.options.parallelism),
    async (a) => {
      const path = resolve(ctx.cwd, a.path);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) throw new RelsignError(`release.manifest: asset ${a.name} (${a.path}) is not a file`);
      return { name: a.name, size: st.size, sha256: await hashFile(path, 'sha256'), type: a.type, signatures: signedBy.get(a.name) ?? [] };
    },
    { signal: ctx.signal },
  );
}

/** The manifest's asset name, checked as any artifact name. */
export function manifestName(ctx: Context): string {
  const name = render(ctx, ctx.config.release.manifest.name_template, 'release.manifest.name_template').trim();
  return checkArtifactName(name, 'release.manifest.name_template');
}

function repositoryOf(ctx: Context): string {
  if (ctx.options.snapshot) return '';
  try {
    const r = resolveRepository(ctx);
    return `${r.owner}/${r.name}`;
  } catch {
    return '';
  }
}

/**
 * Writes, signs and registers the manifest. Its artifacts carry
 * `extra.releaseManifest`, so the release uploads them whatever `ids` says.
 */
export async function writeReleaseManifest(ctx: Context): Promise<void> {
  const name = manifestName(ctx);
  const bundleName = manifestBundleName(name);
  const assets = (await releaseArtifacts(ctx)).filter((a) => a.extra.releaseManifest !== true);
  if (assets.length === 0) {
    ctx.log.debug('release.manifest: no assets to list; no manifest written');
    return;
  }
  for (const a of assets) {
    if (a.name === name || a.name === bundleName) {
      throw new RelsignError(`release.manifest.name_template: ${name} is also the name of the asset ${a.path}; choose another name`);
    }
  }
  const dist = resolve(ctx.distDir);
  const manifestPath = join(dist, name);
  const manifestArtifact: Artifact = { type: 'file', name, path: relative(ctx.cwd, manifestPath) || manifestPath, extra: { releaseManifest: true } };

  const signing = await chooseSigning(ctx);
  const builtin = new BuiltinSigners(ctx);
  const identity = signing && signing.mode !== 'external' ? await inProcessIdentity(ctx, signing, builtin, manifestArtifact) : undefined;

  const manifest = buildManifest({
    project: ctx.config.project_name,
    repository: repositoryOf(ctx),
    tag: ctx.git.tag,
    version: ctx.version,
    commit: ctx.git.fullCommit,
    assets: await measure(ctx, assets),
    images: manifestImages(ctx),
    ...(identity ? { signer: signerOf(identity) } : {}),
  });
  const bytes = manifestBytes(manifest);
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new RelsignError(`release.manifest: the manifest is ${bytes.length} bytes; at most ${MAX_MANIFEST_BYTES} (4 MiB)`);
  }
  const { writePublic } = await import('../sigstore/blob.js');
  await writePublic(manifestPath, bytes);
  ctx.artifacts.add(manifestArtifact);
  const log = ctx.log.child('manifest');

  if (!signing) {
    log.warn(`${name}: not signed (${ctx.options.skip.has('sign') ? '--skip sign' : 'no signs entry'}); consumers can check digests only`);
    return;
  }
  if (identity) {
    const bundlePath = join(dist, bundleName);
    await writePublic(bundlePath, await dsseBundle(identity, bytes));
    ctx.artifacts.add({
      type: 'signature',
      name: bundleName,
      path: relative(ctx.cwd, bundlePath) || bundlePath,
      extra: { signedArtifact: name, bundle: true, releaseManifest: true },
    });
    const verifier: SignatureVerifier =
      identity.kind === 'key'
        ? { kind: 'key', where: signing.where, publicKeyPem: identity.signer.publicKeyPem, ...(signing.cfg.public_key ? { publicKeyRef: signing.cfg.public_key } : {}) }
        : { kind: 'keyless', where: signing.where, identity: identity.cert.identity, issuer: identity.cert.issuer };
    recordSignatureCheck(ctx, { asset: bundleName, path: bundlePath, format: 'dsse', signedName: name, signedPath: manifestPath, verifier });
    log.info(`wrote ${name} (${manifest.subject.length} assets), signed by ${signing.where} → ${bundleName}`);
    return;
  }
  // Only external signers: the first one signs the manifest as it signs any artifact.
  const r = new SignResolver(ctx, signing.cfg, signing.where, manifestArtifact);
  const outputs = await signWithCommand(ctx, signing.cfg, signing.where, r);
  const common = { id: signing.cfg.id };
  if (outputs.signature) {
    const sigName = signing.cfg.signature ? r.uploadName(signing.cfg.signature, 'signature') : outputs.signature.split(/[\\/]/).pop()!;
    ctx.artifacts.add({ ...common, type: 'signature', name: sigName, path: outputs.signature, extra: { signedArtifact: name, releaseManifest: true } });
    recordSignatureCheck(ctx, {
      asset: sigName,
      path: resolve(ctx.cwd, outputs.signature),
      format: 'signature',
      signedName: name,
      signedPath: manifestPath,
      verifier: { kind: 'external', where: signing.where, cmd: signing.cfg.cmd ?? '' },
    });
  }
  if (outputs.certificate) {
    const certName = signing.cfg.certificate ? r.uploadName(signing.cfg.certificate, 'certificate') : outputs.certificate.split(/[\\/]/).pop()!;
    ctx.artifacts.add({ ...common, type: 'certificate', name: certName, path: outputs.certificate, extra: { signedArtifact: name, releaseManifest: true } });
  }
  log.info(`wrote ${name} (${manifest.subject.length} assets), signed by ${signing.where} (${signing.cfg.cmd ?? 'cmd'}); no Sigstore bundle for an external signer`);
}

/**
 * `release.manifest`: runs before the release stage, and also under
 * --snapshot and --skip publish (the manifest is then written to dist only).
 */
export const manifestStage: Stage = {
  name: 'manifest',
  description: 'writing the signed release manifest',
  skip(ctx) {
    const r = ctx.config.release;
    if (r.manifest.disable) return 'release.manifest.disable is set';
    if (renderFlag(ctx, r.disable, 'release.disable')) return 'release.disable is set';
    if (renderFlag(ctx, r.skip_upload, 'release.skip_upload')) return 'release.skip_upload is set';
    return false;
  },
  run: (ctx) => writeReleaseManifest(ctx),
};
