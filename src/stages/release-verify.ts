/**
 * `release.verify`: before a release is published, every signature relsign
 * made for it is verified from the local files the upload step just proved
 * identical (size and sha256) to the uploaded assets:
 *
 * - key signatures (`.sig`, bundles, the manifest's DSSE bundle) against the
 *   entry's `public_key` when set (the key consumers are told to use), else
 *   the signing key's public half;
 * - keyless ones against the certificate in the bundle, which must name the
 *   identity and issuer of the run's OIDC token.
 *
 * The signatures' transparency-log entries were just made by this run and
 * are not checked here (`relsign verify-blob` / `verify-release` check them
 * against the trusted root). External signers (gpg…) are not verifiable by
 * relsign: they are listed in one info line.
 */
import { verify as cryptoVerify, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import type { LocalAsset } from '../github/releases.js';
import type { Context } from '../pipeline/context.js';
import { render } from '../pipeline/template-data.js';
import { PreparedPublicKey, signingHash, type HashAlgorithm } from '../sigstore/algorithms.js';
import { parseBundle } from '../sigstore/bundle.js';
import { certificateIdentity } from '../sigstore/certificate-identity.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, parseDsseBundle } from '../sigstore/dsse.js';
import { keyAlgorithmOf, loadPublicKey, parsePublicKeyPem } from '../sigstore/keys.js';
import { MAX_BUNDLE_BYTES, MAX_SIGNATURE_BYTES, readFileBounded } from '../sigstore/limits.js';
import { decodeBase64Strict } from '../sigstore/pem.js';
import { decodeSignature, verifyBlob } from '../sigstore/verify.js';
import { mapLimit } from '../util/concurrency.js';
import { describeError, RelsignError } from '../util/errors.js';
import { hashFile } from '../util/fs.js';
import { signatureChecks, type SignatureCheck } from './sign/checks.js';
import { MAX_MANIFEST_BYTES } from '../verify-release/manifest.js';

type PublicKey = { key: KeyObject; source: string };

/** One verification failure: why, in a phrase. */
class CheckFailed extends Error {}

export async function verifyReleaseSignatures(ctx: Context, uploaded: readonly LocalAsset[]): Promise<void> {
  const log = ctx.log.child('verify');
  const names = new Set(uploaded.map((a) => a.name));
  const checks = signatureChecks(ctx).filter((c) => names.has(c.asset));
  const external = checks.filter((c) => c.verifier.kind === 'external');
  if (external.length > 0) {
    const who = [...new Set(external.map((c) => `${c.verifier.where} (${c.verifier.kind === 'external' ? c.verifier.cmd : ''})`))];
    log.info(`${external.length} signature(s) made by external signers are not verified by relsign: ${who.join(', ')}`);
  }
  // A keyless .sig written without its certificate names no identity: nothing to check it against.
  const bare = checks.filter((c) => c.verifier.kind === 'keyless' && c.format === 'signature' && !c.certificatePath);
  if (bare.length > 0) log.info(`${bare.length} keyless signature(s) written without a certificate are not verified: ${bare.map((c) => c.asset).slice(0, 3).join(', ')}${bare.length > 3 ? ', …' : ''}`);
  const own = checks.filter((c) => c.verifier.kind !== 'external' && !bare.includes(c));
  if (own.length === 0) return;
  // @sigstore/core reads Fulcio's certificate extensions (the OIDC issuer); loaded only when needed.
  sigstoreX509 ??= (await import('@sigstore/core')).X509Certificate;
  const keys = new Map<string, Promise<PublicKey>>();
  const results = await mapLimit(
    own,
    Math.max(1, ctx.options.parallelism),
    async (c) => {
      try {
        await verifyOne(ctx, c, keys);
        return undefined;
      } catch (err) {
        if (err instanceof CheckFailed) return `${c.asset}: ${err.message}`;
        if (err instanceof RelsignError) return `${c.asset}: ${err.message}`;
        return `${c.asset}: ${describeError(err)}`;
      }
    },
    { signal: ctx.signal },
  );
  const failures = results.filter((r): r is string => r !== undefined);
  if (failures.length > 0) {
    // Each failure on its own log line; the error itself stays one line (it gains where the draft is).
    for (const f of failures) log.error(`signature check failed: ${f}`);
    throw new RelsignError(
      `release.verify: signature check failed for ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}; not publishing`,
    );
  }
  log.info(`verified ${own.length} signature(s) before publishing`);
}

async function verifyOne(ctx: Context, c: SignatureCheck, keys: Map<string, Promise<PublicKey>>): Promise<void> {
  const v = c.verifier;
  if (v.kind === 'key') {
    const pub = await publicKeyFor(ctx, v, keys);
    if (c.format === 'dsse') return verifyDsse(c, (message, sig) => verifyWithKey(pub.key, message, sig), `does not verify with ${pub.source}`);
    const artifact = c.signedPath;
    if (c.format === 'signature') {
      const sig = await readFileBounded(c.path, MAX_SIGNATURE_BYTES, 'a signature');
      await verifyBlob(artifact, { publicKey: pub.key, keySource: pub.source, signature: sig, signatureSource: c.asset, ignoreTlog: true });
    } else {
      const text = (await readFileBounded(c.path, MAX_BUNDLE_BYTES, 'a bundle')).toString('utf8');
      await verifyBlob(artifact, { publicKey: pub.key, keySource: pub.source, bundle: text, bundleSource: c.asset, ignoreTlog: true });
    }
    return;
  }
  if (v.kind !== 'keyless') return;
  const expect = (cert: Buffer | string): KeyObject => certificateKey(cert, v.identity, v.issuer);
  if (c.format === 'dsse') {
    return verifyDsse(
      c,
      (message, sig, bundleJson) => verifyWithKey(expect(bundleCertificate(bundleJson)), message, sig),
      `does not verify with its certificate's key`,
    );
  }
  let signature: Buffer;
  let certificate: Buffer | string;
  let digest: Buffer | undefined;
  let alg: HashAlgorithm = 'sha256';
  if (c.format === 'signature') {
    if (!c.certificatePath) throw new CheckFailed('a keyless signature without its certificate cannot be checked');
    signature = decodeSignature(await readFileBounded(c.path, MAX_SIGNATURE_BYTES, 'a signature'), c.asset);
    const text = (await readFileBounded(c.certificatePath, MAX_SIGNATURE_BYTES, 'a certificate')).toString('utf8');
    // PEM as relsign's builtin signer writes it, or base64 of the PEM as `cosign sign-blob --output-certificate` does.
    certificate = text.includes('-----BEGIN') ? text : (decodeBase64Strict(text.trim())?.toString('utf8') ?? text);
  } else {
    const text = (await readFileBounded(c.path, MAX_BUNDLE_BYTES, 'a bundle')).toString('utf8');
    const b = parseBundle(text, c.asset);
    signature = b.signature;
    if (b.format === 'sigstore') {
      certificate = bundleCertificate(b.json);
      digest = b.digest;
      alg = b.digestAlgorithm;
    } else {
      if (!b.certPem) throw new CheckFailed('the bundle carries no certificate');
      certificate = b.certPem;
    }
  }
  const key = expect(certificate);
  const fileDigest = Buffer.from(await hashFile(c.signedPath, alg), 'hex');
  if (digest && !digest.equals(fileDigest)) throw new CheckFailed(`the bundle signs another file than ${c.signedName} (${alg} ${digest.toString('hex')})`);
  const algorithm = keyAlgorithmOf(key, 'the certificate key');
  if (new PreparedPublicKey(key, algorithm).verifyDigest(fileDigest, alg, signature) !== 'ok') {
    throw new CheckFailed(`invalid signature: it does not verify ${c.signedName} with its certificate's key`);
  }
}

/** The manifest bundle: payload is the manifest file's exact bytes, one signature over the DSSE PAE. */
async function verifyDsse(
  c: SignatureCheck,
  check: (message: Buffer, signature: Buffer, bundleJson: Record<string, unknown>) => boolean,
  whyNot: string,
): Promise<void> {
  const text = (await readFileBounded(c.path, MAX_BUNDLE_BYTES, 'a bundle')).toString('utf8');
  const b = parseDsseBundle(text);
  if (typeof b === 'string') throw new CheckFailed(b);
  if (b.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new CheckFailed(`DSSE payloadType ${JSON.stringify(b.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  if (b.signatures.length !== 1) throw new CheckFailed(`the DSSE envelope has ${b.signatures.length} signatures, want 1`);
  const file = await readFileBounded(c.signedPath, MAX_MANIFEST_BYTES, 'a release manifest');
  if (!file.equals(b.payload)) throw new CheckFailed(`the envelope's payload is not the bytes of ${c.signedName}`);
  if (!check(pae(b.payloadType, b.payload), b.signatures[0]!, JSON.parse(text) as Record<string, unknown>)) {
    throw new CheckFailed(`invalid signature: the DSSE signature ${whyNot}`);
  }
}

function verifyWithKey(key: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    const algorithm = keyAlgorithmOf(key, 'the public key');
    return cryptoVerify(algorithm === 'ed25519' ? null : signingHash(algorithm), message, key, signature);
  } catch {
    return false;
  }
}

/** The leaf certificate of a v0.3 (`certificate`) or v0.1/v0.2 (`x509CertificateChain`) bundle, DER. */
function bundleCertificate(json: Record<string, unknown>): Buffer {
  const vm = (json.verificationMaterial ?? {}) as Record<string, { rawBytes?: unknown; certificates?: Array<{ rawBytes?: unknown }> } | undefined>;
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes;
  const der = typeof raw === 'string' ? decodeBase64Strict(raw) : undefined;
  if (!der) throw new CheckFailed('the bundle carries no certificate');
  return der;
}

/** The certificate's public key, after checking it names the identity and issuer the release signed with. */
function certificateKey(cert: Buffer | string, identity: string, issuer: string): KeyObject {
  let node: NodeX509;
  try {
    node = new NodeX509(cert);
  } catch {
    throw new CheckFailed('its certificate does not parse');
  }
  const id = certificateIdentityOf(node.raw);
  if (!id.subjectAlternativeNames.includes(identity)) {
    throw new CheckFailed(`its certificate names ${JSON.stringify(id.subjectAlternativeNames.join(', '))}, not the signing identity ${JSON.stringify(identity)}`);
  }
  if (id.issuer !== issuer) throw new CheckFailed(`its certificate's OIDC issuer is ${JSON.stringify(id.issuer ?? '')}, not ${JSON.stringify(issuer)}`);
  return node.publicKey;
}

let sigstoreX509: typeof import('@sigstore/core').X509Certificate | undefined;
function certificateIdentityOf(der: Buffer): ReturnType<typeof certificateIdentity> {
  if (!sigstoreX509) throw new CheckFailed('certificate parser not loaded');
  return certificateIdentity(sigstoreX509.parse(Buffer.from(der)));
}

async function publicKeyFor(ctx: Context, v: Extract<SignatureCheck['verifier'], { kind: 'key' }>, keys: Map<string, Promise<PublicKey>>): Promise<PublicKey> {
  const cacheKey = v.publicKeyRef !== undefined ? `${v.where}\0ref` : `pem\0${v.publicKeyPem}`;
  let p = keys.get(cacheKey);
  if (!p) {
    p = (async () => {
      if (v.publicKeyRef === undefined) return { key: parsePublicKeyPem(v.publicKeyPem, `the public key of ${v.where}'s signing key`), source: `${v.where}'s signing key` };
      return loadEntryPublicKey(ctx, v.publicKeyRef, v.where);
    })();
    keys.set(cacheKey, p);
  }
  return p;
}

/** An entry's `public_key` (a template: a file in the project or env://VAR), loaded and parsed. */
export async function loadEntryPublicKey(ctx: Context, template: string, where: string): Promise<PublicKey> {
  const ref = render(ctx, template, `${where}.public_key`).trim();
  if (!ref) throw new RelsignError(`${where}.public_key: rendered to an empty reference`);
  try {
    const loaded = await loadPublicKey(ref.startsWith('env://') ? ref : resolve(ctx.cwd, ref), ctx.env as NodeJS.ProcessEnv);
    return { key: loaded.key, source: `${where}.public_key ${ref}` };
  } catch (err) {
    throw new RelsignError(`${where}.public_key: ${describeError(err).replace(/^relsign: /, '')}`, { cause: err });
  }
}
