/**
 * Releases laid out on disk for verify-release tests: archives, a checksums
 * file, a `.sig` per archive and for the checksums file, and the release
 * manifest with its DSSE bundle written exactly as the manifest contract says
 * (in-toto Statement v1, 2-space JSON with a trailing newline, subjects sorted;
 * a Sigstore bundle v0.3 whose payload is the manifest's bytes).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE, makeDsseBundle, pae } from '../../src/sigstore/dsse.js';
import type { Signer } from '../../src/sigstore/signer.js';

export const PROJECT = 'hello';
export const VERSION = '1.2.0';
export const TAG = 'v1.2.0';
export const COMMIT = '0123456789abcdef0123456789abcdef01234567';
export const MANIFEST = `${PROJECT}_${VERSION}_manifest.json`;
export const CHECKSUMS = `${PROJECT}_${VERSION}_checksums.txt`;
export const ARCHIVES = [`${PROJECT}_${VERSION}_linux_amd64.tar.gz`, `${PROJECT}_${VERSION}_darwin_arm64.tar.gz`, `${PROJECT}_${VERSION}_windows_amd64.zip`];

export async function tempDir(prefix = 'relsign-vr-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Archives, checksums file, `.sig` per archive and for the checksums file (the GoReleaser + cosign layout). */
export async function writeSignedAssets(dir: string, signer: Signer, options: { sigs?: 'all' | 'checksums' } = {}): Promise<void> {
  const lines: string[] = [];
  for (const [i, name] of ARCHIVES.entries()) {
    const content = Buffer.from(`archive ${i} of ${name}\n`.repeat(50 + i));
    await writeFile(join(dir, name), content);
    lines.push(`${sha256(content)}  ${name}`);
    if ((options.sigs ?? 'all') === 'all') await signer.writeSignature(join(dir, `${name}.sig`), await signer.signFile(join(dir, name)));
  }
  await writeFile(join(dir, CHECKSUMS), `${lines.join('\n')}\n`);
  await signer.writeSignature(join(dir, `${CHECKSUMS}.sig`), await signer.signFile(join(dir, CHECKSUMS)));
}

export function typeOf(name: string): string {
  if (name.endsWith('.sig') || name.endsWith('.sigstore.json')) return 'signature';
  if (name.endsWith('.pem')) return 'certificate';
  if (name.endsWith('checksums.txt')) return 'checksum';
  if (name.endsWith('.tar.gz') || name.endsWith('.zip')) return 'archive';
  return 'file';
}

export interface ManifestInit {
  repository?: string;
  tag?: string;
  signer?: { kind: 'key'; publicKeySha256: string } | { kind: 'keyless'; identity: string; issuer: string };
  images?: Array<{ repository: string; digest: string; tags: string[]; platforms: string[] }>;
  /** Names to leave out of the manifest. */
  omit?: string[];
}

/** The manifest's bytes for every file in `dir` except the manifest and its bundle. */
export async function manifestFor(dir: string, init: ManifestInit): Promise<Buffer> {
  const names = (await readdir(dir)).filter((n) => n !== MANIFEST && n !== `${MANIFEST}.sigstore.json` && !(init.omit ?? []).includes(n)).sort();
  const set = new Set(names);
  const assets = [];
  for (const name of names) {
    const bytes = await readFile(join(dir, name));
    assets.push({
      name,
      size: (await stat(join(dir, name))).size,
      sha256: sha256(bytes),
      type: typeOf(name),
      signatures: [`${name}.sig`, `${name}.sigstore.json`].filter((s) => set.has(s)),
    });
  }
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: assets.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
    predicateType: 'https://relsign.dev/release-manifest/v1',
    predicate: {
      project: PROJECT,
      repository: init.repository ?? 'acme/widget',
      tag: init.tag ?? TAG,
      version: VERSION,
      commit: COMMIT,
      assets,
      images: init.images ?? [],
      signer: init.signer,
    },
  };
  return Buffer.from(`${JSON.stringify(statement, null, 2)}\n`, 'utf8');
}

/** A DSSE bundle (v0.3, key hint, no log entry) over `payload`, as relsign and `cosign attest-blob --new-bundle-format` write it. */
export async function keyBundle(signer: Signer, payload: Buffer): Promise<string> {
  const sig = await signer.signBytes(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  return JSON.stringify(makeDsseBundle({ payload, payloadType: IN_TOTO_PAYLOAD_TYPE, signature: sig.signature, keyHint: signer.keyHint }));
}

export const keySigner = (signer: Signer) => ({ kind: 'key' as const, publicKeySha256: sha256(signer.publicKeyDer) });

/** Writes the manifest and its bundle (signed by `by`, default the release's signer). */
export async function writeManifest(dir: string, signer: Signer, init: ManifestInit & { by?: Signer } = {}): Promise<Buffer> {
  const bytes = await manifestFor(dir, { signer: keySigner(signer), ...init });
  await writeFile(join(dir, MANIFEST), bytes);
  await writeFile(join(dir, `${MANIFEST}.sigstore.json`), await keyBundle(init.by ?? signer, bytes));
  return bytes;
}

/** A complete signed release in a new folder; returns the folder and the public key file. */
export async function signedRelease(signer: Signer, init: ManifestInit = {}): Promise<{ dir: string; pub: string; cleanup: () => Promise<void> }> {
  const root = await tempDir();
  const dir = join(root, 'release');
  await (await import('node:fs/promises')).mkdir(dir);
  await writeSignedAssets(dir, signer);
  await writeManifest(dir, signer, init);
  const pub = join(root, 'cosign.pub');
  await writeFile(pub, signer.publicKeyPem);
  return { dir, pub, cleanup: () => rm(root, { recursive: true, force: true }) };
}
