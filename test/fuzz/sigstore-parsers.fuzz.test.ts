/**
 * Fuzzes every parser signing reads hostile input with: the PEM decoder and its
 * base64, the encrypted-key envelope, public and importable private keys,
 * detached signatures, the DER reader, and bundles (Sigstore v0.1–v0.3 and
 * cosign's legacy format), up to a whole verifyBlob. Inputs start from real
 * files made by cosign and Sigstore (../shared/vectors) and relsign, then are
 * mutated, spliced, repeated and nested, or are random structured garbage.
 * Any error other than the module's own (RelsignError, BlobVerificationError
 * for verification) fails the test, as does any input taking over 2 s.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ed25519Pkcs8V1, parseEd25519Pkcs8V2, readChildren, readTlv } from '../../src/sigstore/der.js';
import {
  BlobVerificationError,
  decodePem,
  decodeSignature,
  encryptEnvelope,
  openEnvelope,
  parseBundle,
  parseEncryptedKeyPem,
  parseEnvelope,
  parseImportablePrivateKey,
  parsePrivateKeyDer,
  parsePublicKeyPem,
  Signer,
  verifyBlob,
} from '../../src/sigstore/index.js';
import { decodeBase64Strict } from '../../src/sigstore/pem.js';
import { RelsignError } from '../../src/util/errors.js';
import { vec } from '../sigstore/helpers.js';
import { deepJson, fuzz, fuzzRuns, fuzzSeed, fuzzTimeout, mutate, randomJson, randomText, type Rng } from './input-mutator.js';

const SEED = fuzzSeed(0x5eed_0008);
const isRelsignError = (err: unknown): boolean => err instanceof RelsignError;
const isVerificationError = (err: unknown): boolean => err instanceof BlobVerificationError;

/** Every regular file under `dir` (recursively) whose name matches. */
function filesUnder(dir: string, match: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, match));
    else if (match.test(name)) out.push(p);
  }
  return out.sort();
}

// --- Corpus: real inputs ------------------------------------------------------

const pemFiles = filesUnder(vec(), /\.(key|pub|pem)$/);
const PEMS = pemFiles.map((f) => readFileSync(f));
const ENCRYPTED_KEYS = PEMS.filter((b) => b.includes('ENCRYPTED') && b.includes('PRIVATE KEY-----'));
const ENVELOPES = [
  ...ENCRYPTED_KEYS.map((b) => decodePem(b.toString('utf8'), 'corpus').bytes),
  ...filesUnder(vec('extended', 'go-securesystemslib'), /^kdfVector-.*\.json$/).map((f) => readFileSync(f)),
];
const PUBLIC_KEYS = PEMS.filter((b) => b.includes('PUBLIC KEY-----'));
const PRIVATE_KEYS = PEMS.filter((b) => /-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(b.toString('latin1')));

const generated: KeyObject[] = [
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
  generateKeyPairSync('ed25519').privateKey,
  createPrivateKey(readFileSync(vec('extended', 'keys', 'import', 'validrsa.key'))),
];
for (const k of generated) PUBLIC_KEYS.push(Buffer.from(createPublicKey(k).export({ type: 'spki', format: 'pem' }) as string));

const DERS = [
  ...generated.map((k) => k.export({ type: 'pkcs8', format: 'der' })),
  ...generated.map((k) => createPublicKey(k).export({ type: 'spki', format: 'der' })),
  ...PRIVATE_KEYS.map((b) => decodePem(b.toString('utf8'), 'corpus').bytes),
];

const ARTIFACT = Buffer.from('relsign fuzz artifact\n');
const signers = generated.map((k) => Signer.fromPrivateKey(k));
const signatures = await Promise.all(signers.map((s) => s.signBytes(ARTIFACT)));
const SIGNATURES = signatures.flatMap((sig) => [sig.signature, Buffer.from(sig.signature.toString('base64')), Buffer.from(`${sig.signature.toString('base64')}\n`)]);

const conformanceBundles = filesUnder(vec('sigstore-conformance', 'bundle-verify'), /^bundle\.sigstore\.json$/).map((f) => readFileSync(f));
const BUNDLES = [
  ...conformanceBundles,
  readFileSync(vec('extended', 'sigstore-go', 'public-key-validity.sigstore.json')),
  ...signers.flatMap((s, i) => [Buffer.from(JSON.stringify(s.bundle(signatures[i]!))), Buffer.from(JSON.stringify(s.legacyBundle(signatures[i]!)))]),
  Buffer.from(
    JSON.stringify({
      base64Signature: signatures[0]!.signature.toString('base64'),
      cert: Buffer.from(signers[0]!.publicKeyPem).toString('base64'),
      rekorBundle: { SignedEntryTimestamp: 'MEUCIQ==', Payload: { body: Buffer.from('{"kind":"hashedrekord","apiVersion":"0.0.1"}').toString('base64'), integratedTime: 1, logIndex: 2, logID: 'c0d23d6ad406973f' } },
    }),
  ),
];
const BUNDLE_KEYS = [
  'mediaType', 'verificationMaterial', 'publicKey', 'hint', 'certificate', 'x509CertificateChain', 'certificates', 'rawBytes',
  'tlogEntries', 'timestampVerificationData', 'rfc3161Timestamps', 'messageSignature', 'messageDigest', 'algorithm', 'digest',
  'signature', 'dsseEnvelope', 'base64Signature', 'cert', 'rekorBundle', 'SignedEntryTimestamp', 'Payload', 'body',
  'integratedTime', 'logIndex', 'logID', 'logId', 'keyId', 'kindVersion', 'kind', 'version', 'inclusionPromise',
  'signedEntryTimestamp', 'inclusionProof', 'canonicalizedBody', 'SHA2_256', 'SHA2_384', 'SHA2_512',
  'application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.1',
];
const ENVELOPE_KEYS = ['kdf', 'name', 'scrypt', 'params', 'N', 'r', 'p', 'salt', 'cipher', 'nacl/secretbox', 'nonce', 'ciphertext'];

// --- Generators ---------------------------------------------------------------

/** A JSON document with one value somewhere inside replaced (structure-aware mutation). */
function mutateJsonDocument(rng: Rng, text: Buffer, keys: readonly string[]): Buffer {
  let doc: unknown;
  try {
    doc = JSON.parse(text.toString('utf8'));
  } catch {
    return text;
  }
  const edits = rng.range(1, 3);
  for (let e = 0; e < edits; e++) {
    let node = doc;
    for (let depth = 0; depth < 6; depth++) {
      if (node === null || typeof node !== 'object') break;
      const entries = Object.keys(node as object);
      if (entries.length === 0) break;
      const k = rng.pick(entries);
      const child = (node as Record<string, unknown>)[k];
      if (child === null || typeof child !== 'object' || rng.chance(0.35)) {
        const choice = rng.int(5);
        if (choice === 0) delete (node as Record<string, unknown>)[k];
        else if (choice === 1) (node as Record<string, unknown>)[rng.pick(keys)] = randomJson(rng, 2, keys);
        else if (choice === 2 && typeof child === 'string') (node as Record<string, unknown>)[k] = child.slice(0, rng.int(child.length + 1)) + randomText(rng, 8);
        else (node as Record<string, unknown>)[k] = randomJson(rng, 3, keys);
        break;
      }
      node = child;
    }
  }
  return Buffer.from(JSON.stringify(doc) ?? 'null');
}

/** Mutated real inputs mostly; some structured garbage, deep nesting and huge inputs. */
function textInput(rng: Rng, corpus: readonly Buffer[], keys: readonly string[] = []): string {
  const kind = rng.int(20);
  if (kind < 12) return mutate(rng, corpus).toString(rng.chance(0.8) ? 'utf8' : 'latin1');
  if (kind < 15 && keys.length > 0) return mutateJsonDocument(rng, rng.pick(corpus), keys).toString('utf8');
  if (kind < 17) return JSON.stringify(randomJson(rng, 5, keys)) ?? '';
  if (kind === 17) return deepJson(rng, rng.pick([100, 10_000, 100_000]));
  if (kind === 18) return randomText(rng, 4096);
  return rng.pick(corpus).toString('utf8');
}

/** A PEM-framed mutation: a real label around a mutated, splice or garbage body, sometimes huge. */
function pemInput(rng: Rng, corpus: readonly Buffer[]): string {
  if (rng.chance(0.6)) return textInput(rng, corpus);
  const label = rng.pick(['PUBLIC KEY', 'RSA PUBLIC KEY', 'ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', randomText(rng, 12)]);
  const body = rng.chance(0.5) ? mutate(rng, DERS) : rng.bytes(rng.size(rng.chance(0.1) ? 200_000 : 600));
  const b64 = body.toString('base64').replace(/.{64}/g, '$&\n');
  const headers = rng.chance(0.2) ? `Proc-Type: 4,ENCRYPTED\n${randomText(rng, 20)}: x\n\n` : '';
  return `${rng.chance(0.2) ? randomText(rng, 20) : ''}-----BEGIN ${label}-----\n${headers}${b64}\n-----END ${rng.chance(0.9) ? label : 'X'}-----\n`;
}

/** The base64 check as it was written before (a regex); compared on inputs it can handle. */
const OLD_STRICT_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function oldDecodeBase64Strict(text: string): Buffer | undefined {
  const compact = text.replace(/[\s]+/g, '');
  return OLD_STRICT_B64.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}

const RUNS = fuzzRuns(2000);

describe('fuzz: PEM and base64', () => {
  it('decodeBase64Strict never throws and agrees with the former regex check on every input', async () => {
    const corpus = [...PEMS, ...SIGNATURES.filter((s) => s[0] !== 0x30), ...ENVELOPES.map((e) => Buffer.from(e.toString('base64')))];
    const r = await fuzz({
      name: 'decodeBase64Strict',
      seed: SEED,
      runs: RUNS * 2,
      generate: (rng) => {
        const b64 = rng.pick(corpus).toString('latin1');
        // Small edits around the alphabet, padding and whitespace are what tell two decoders apart.
        let s = rng.chance(0.5) ? b64 : Buffer.from(rng.pick(corpus)).toString('base64');
        const n = rng.range(0, 4);
        for (let i = 0; i < n; i++) {
          const at = rng.int(s.length + 1);
          const tok = rng.pick(['=', '==', ' ', '\n', '\t', '\u00a0', '\ufeff', '\u2028', '-', '_', 'A', 'AB', 'ABC', '\u0100', '\v', '\f', '\u3000', '\u200b']);
          s = rng.chance(0.5) ? s.slice(0, at) + tok + s.slice(at) : s.slice(0, at) + s.slice(at + rng.range(1, 3));
        }
        return s;
      },
      run: (s) => decodeBase64Strict(s),
      allowed: () => false,
      check: (s, out) => {
        if (s.length > 20_000) return;
        const old = oldDecodeBase64Strict(s);
        expect(out === undefined, 'accepts exactly what the regex accepted').toBe(old === undefined);
        if (old) expect((out as Buffer).equals(old)).toBe(true);
      },
    });
    expect(r.rejected).toBe(0);
  }, fuzzTimeout(RUNS));

  it('decodeBase64Strict stays linear on megabytes (the regex overflowed the stack)', () => {
    for (const s of ['A'.repeat(4 << 20), 'AAAA\n'.repeat(1 << 19), `${'A'.repeat(4 << 20)}!`, '='.repeat(1 << 20)]) {
      const out = decodeBase64Strict(s);
      expect(out === undefined || out.length > 0).toBe(true);
    }
  });

  it('decodePem: only RelsignError, one line', async () => {
    const r = await fuzz({ name: 'decodePem', seed: SEED, runs: RUNS, generate: (rng) => pemInput(rng, PEMS), run: (t) => decodePem(t, 'fuzz.pem'), allowed: isRelsignError });
    expect(r.rejected).toBeGreaterThan(RUNS / 10);
    expect(r.rejected).toBeLessThan(r.cases);
  }, fuzzTimeout(RUNS));
});

describe('fuzz: keys', () => {
  it('parseEncryptedKeyPem: only RelsignError', async () => {
    const r = await fuzz({
      name: 'parseEncryptedKeyPem',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => {
        if (rng.chance(0.4)) {
          const env = mutateJsonDocument(rng, rng.pick(ENVELOPES), ENVELOPE_KEYS);
          return `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${env.toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
        }
        return pemInput(rng, ENCRYPTED_KEYS);
      },
      run: (t) => parseEncryptedKeyPem(t, 'fuzz.key'),
      allowed: isRelsignError,
    });
    expect(r.rejected).toBeLessThan(r.cases);
  }, fuzzTimeout(RUNS));

  it('parseEnvelope: only RelsignError, and a parsed envelope opens or says "incorrect password" without hanging', async () => {
    // Small N so that opening stays cheap; the mutations may raise it, within the limits.
    const der = generated[0]!.export({ type: 'pkcs8', format: 'der' });
    const cheap = [await encryptEnvelope(der, 'pw', { N: 1024, r: 8, p: 1 }), await encryptEnvelope(der, '', { N: 16, r: 1, p: 1 })];
    let opened = 0;
    const r = await fuzz({
      name: 'parseEnvelope + openEnvelope',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => (rng.chance(0.5) ? mutateJsonDocument(rng, rng.pick(cheap), ENVELOPE_KEYS).toString('utf8') : textInput(rng, [...ENVELOPES, ...cheap], ENVELOPE_KEYS)),
      run: async (t) => {
        const env = parseEnvelope(t, 'fuzz.key');
        if (env.params.N * env.params.r * env.params.p > 2 ** 14) return env; // parsed is enough; scrypt cost is bounded elsewhere
        opened++;
        return await openEnvelope(env, rngPassword(t), 'fuzz.key');
      },
      allowed: isRelsignError,
    });
    expect(r.rejected).toBeLessThan(r.cases);
    expect(opened).toBeGreaterThan(10);
  }, fuzzTimeout(RUNS));

  it('parsePublicKeyPem: only RelsignError', async () => {
    const r = await fuzz({ name: 'parsePublicKeyPem', seed: SEED, runs: RUNS, generate: (rng) => pemInput(rng, PUBLIC_KEYS), run: (t) => parsePublicKeyPem(t, 'fuzz.pub'), allowed: isRelsignError });
    expect(r.rejected).toBeLessThan(r.cases);
  }, fuzzTimeout(RUNS));

  it('parseImportablePrivateKey: only RelsignError', async () => {
    const r = await fuzz({
      name: 'parseImportablePrivateKey',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => pemInput(rng, PRIVATE_KEYS),
      run: (t) => parseImportablePrivateKey(t, 'fuzz.key'),
      allowed: isRelsignError,
    });
    expect(r.rejected).toBeLessThan(r.cases);
  }, fuzzTimeout(RUNS));
});

/** A password picked from the input, so a run is reproducible without a second generator. */
function rngPassword(t: string): string {
  return t.length % 3 === 0 ? 'pw' : t.length % 3 === 1 ? '' : 'wrong';
}

describe('fuzz: DER', () => {
  it('readTlv, readChildren and parseEd25519Pkcs8V2 never throw; parsePrivateKeyDer throws only RelsignError', async () => {
    const ed25519v2 = Buffer.concat([
      Buffer.from('3053020101300506032b657004220420', 'hex'),
      Buffer.alloc(32, 7),
      Buffer.from('812100', 'hex'),
      Buffer.alloc(32, 9),
    ]);
    const corpus = [...DERS, ed25519v2, ed25519Pkcs8V1(Buffer.alloc(32, 1))];
    const r = await fuzz({
      name: 'DER reader',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => (rng.chance(0.85) ? mutate(rng, corpus) : rng.bytes(rng.size(300))),
      run: (der) => {
        const outer = readTlv(der);
        if (outer) {
          expect(outer.end).toBeLessThanOrEqual(der.length);
          readChildren(outer.value);
        }
        for (let off = 1; off < Math.min(der.length, 16); off++) readTlv(der, off);
        parseEd25519Pkcs8V2(der);
        try {
          parsePrivateKeyDer(Buffer.from(der), 'fuzz.der');
        } catch (err) {
          if (!(err instanceof RelsignError)) throw err;
        }
      },
      allowed: () => false,
    });
    expect(r.cases).toBe(RUNS);
  }, fuzzTimeout(RUNS));
});

describe('fuzz: signatures', () => {
  it('decodeSignature: only BlobVerificationError, for strings and bytes', async () => {
    const r = await fuzz({
      name: 'decodeSignature',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => {
        const b = rng.chance(0.9) ? mutate(rng, SIGNATURES) : rng.bytes(rng.size(600));
        return rng.chance(0.5) ? b : b.toString('latin1');
      },
      run: (s) => decodeSignature(s, 'fuzz.sig'),
      allowed: isVerificationError,
    });
    expect(r.rejected).toBeGreaterThan(0);
  }, fuzzTimeout(RUNS));

  it('verifyBlob with a mutated signature: only BlobVerificationError, never a forgery', async () => {
    const pems = signers.map((s) => s.publicKeyPem);
    await fuzz({
      name: 'verifyBlob(signature)',
      seed: SEED,
      runs: Math.ceil(RUNS / 4),
      generate: (rng) => ({ key: rng.int(pems.length), sig: mutate(rng, SIGNATURES) }),
      run: (c) => verifyBlob(ARTIFACT, { publicKey: pems[c.key]!, signature: c.sig, ignoreTlog: true }),
      allowed: isVerificationError,
      check: (c) => {
        // Accepted only if OpenSSL, on its own, agrees the signature is valid for this key.
        expect(independentlyValid(generated[c.key]!, decodeSignature(c.sig)), 'an accepted signature is a real one').toBe(true);
      },
    });
  }, fuzzTimeout(RUNS));
});

/** OpenSSL's verdict on `sig` over ARTIFACT: DER or r‖s, with the curve's hash or SHA-256 (what cosign tries). */
function independentlyValid(key: KeyObject, sig: Buffer): boolean {
  const pub = createPublicKey(key);
  if (pub.asymmetricKeyType === 'ed25519') return verify(null, ARTIFACT, pub, sig);
  const hashes = pub.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? ['sha384', 'sha256'] : pub.asymmetricKeyDetails?.namedCurve === 'secp521r1' ? ['sha512', 'sha256'] : ['sha256'];
  for (const h of hashes) {
    for (const dsaEncoding of ['der', 'ieee-p1363'] as const) {
      try {
        if (verify(h, ARTIFACT, { key: pub, dsaEncoding }, sig)) return true;
      } catch {
        /* not this encoding */
      }
    }
  }
  return false;
}

describe('fuzz: bundles', () => {
  it('parseBundle (v0.1–v0.3 and legacy): only BlobVerificationError', async () => {
    const r = await fuzz({
      name: 'parseBundle',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => textInput(rng, BUNDLES, BUNDLE_KEYS),
      run: (t) => parseBundle(t, 'fuzz.json'),
      allowed: isVerificationError,
    });
    expect(r.rejected).toBeGreaterThan(RUNS / 10);
    expect(r.rejected).toBeLessThan(r.cases);
  }, fuzzTimeout(RUNS));

  it('verifyBlob with a mutated bundle, with and without a trusted root: only RelsignError', async () => {
    const trustedRoot: unknown = JSON.parse(readFileSync(vec('sigstore-conformance', 'public-good-trusted_root.json'), 'utf8'));
    const own = BUNDLES.slice(conformanceBundles.length + 1);
    await fuzz({
      name: 'verifyBlob(bundle)',
      seed: SEED,
      runs: Math.ceil(RUNS / 5),
      generate: (rng) => ({
        key: rng.int(signers.length),
        bundle: rng.chance(0.5) ? mutateJsonDocument(rng, rng.pick(own), BUNDLE_KEYS).toString('utf8') : textInput(rng, BUNDLES, BUNDLE_KEYS),
        tlog: rng.int(3),
      }),
      run: (c) =>
        verifyBlob(ARTIFACT, {
          publicKey: signers[c.key]!.publicKeyPem,
          bundle: c.bundle,
          ignoreTlog: c.tlog === 0,
          trustedRoot: c.tlog === 2 ? trustedRoot : undefined,
        }),
      allowed: isRelsignError,
    });
  }, fuzzTimeout(RUNS));
});
