/**
 * Actions behind `relsign generate-key-pair | import-key-pair | sign-blob | verify-blob`.
 * The command modules import this lazily, so start-up stays fast.
 */
import { stat } from 'node:fs/promises';
import { RelsignError, UsageError } from '../util/errors.js';
import { fileError } from './errors.js';
import { assertKeyPairWritable, generateKeyPair, importKeyPair, loadPublicKey, parseImportablePrivateKey, writeKeyPair } from './keys.js';
import { MAX_BUNDLE_BYTES, MAX_KEY_BYTES, MAX_SIGNATURE_BYTES, MAX_TRUSTED_ROOT_BYTES, readFileBounded, tooLargeMessage } from './limits.js';
import { getPassword } from './password.js';
import { Signer } from './signer.js';
import { verifyBlob } from './verify.js';

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export interface KeyPairFlags {
  outputKeyPrefix: string;
  force: boolean;
}

export async function runGenerateKeyPair(flags: KeyPairFlags): Promise<void> {
  await assertKeyPairWritable(flags.outputKeyPrefix, flags.force);
  const password = await getPassword({ confirm: true });
  const pems = await generateKeyPair(password);
  const { keyPath, pubPath } = await writeKeyPair(flags.outputKeyPrefix, pems, { force: flags.force });
  say(`Private key written to ${keyPath}`);
  say(`Public key written to ${pubPath}`);
}

export async function runImportKeyPair(flags: KeyPairFlags & { key: string }): Promise<void> {
  const text = (await readFileBounded(flags.key, MAX_KEY_BYTES, 'a key file')).toString('utf8');
  const source = flags.key.split(/[\\/]/).pop() ?? flags.key;
  parseImportablePrivateKey(text, source); // reject unusable keys before asking for a password
  await assertKeyPairWritable(flags.outputKeyPrefix, flags.force);
  const password = await getPassword({ confirm: true });
  const pems = await importKeyPair(text, password, source);
  const { keyPath, pubPath } = await writeKeyPair(flags.outputKeyPrefix, pems, { force: flags.force });
  say(`Private key written to ${keyPath}`);
  say(`Public key written to ${pubPath}`);
}

export interface SignBlobFlags {
  key?: string;
  outputSignature?: string;
  output?: string;
  outputCertificate?: string;
  bundle?: string;
  newBundleFormat: boolean;
  tlogUpload: boolean;
  yes: boolean;
  b64: boolean;
}

export async function runSignBlob(file: string, flags: SignBlobFlags): Promise<void> {
  if (!flags.key) throw new UsageError('sign-blob: --key is required (keyless signing is not supported yet)');
  if (flags.newBundleFormat && !flags.bundle) throw new UsageError('must specify --bundle with --new-bundle-format');
  const outputSignature = flags.outputSignature ?? flags.output;
  if (file !== '-') {
    // Fail on a missing input before asking for a password.
    const st = await stat(file).catch((err: unknown) => {
      throw fileError(err, file);
    });
    if (st.isDirectory()) throw new RelsignError(`cannot read ${file}: is a directory`);
  }
  const signer = await Signer.load(flags.key, () => getPassword());
  const sig = file === '-' ? await signer.signStream(process.stdin) : await signer.signFile(file);
  signer.destroy();

  if (flags.bundle) {
    if (flags.newBundleFormat) await signer.writeBundle(flags.bundle, sig);
    else await signer.writeLegacyBundle(flags.bundle, sig);
    say(`Wrote bundle to file ${flags.bundle}`);
  }
  if (outputSignature) {
    await signer.writeSignature(outputSignature, sig, { base64: flags.b64 });
    say(`Wrote signature to file ${outputSignature}`);
  } else if (!flags.newBundleFormat) {
    if (flags.b64) process.stdout.write(`${sig.signature.toString('base64')}\n`);
    else process.stdout.write(sig.signature);
  }
  if (flags.outputCertificate) say(`relsign: note: no certificate to write for a key-based signature (--output-certificate ${flags.outputCertificate} ignored)`);
  if (flags.tlogUpload) {
    say('relsign: note: not uploaded to a transparency log (Rekor upload is not implemented yet); pass --tlog-upload=false to silence this');
  }
}

export interface VerifyBlobFlags {
  key?: string;
  signature?: string;
  bundle?: string;
  insecureIgnoreTlog: boolean;
  trustedRoot?: string;
}

export async function runVerifyBlob(file: string, flags: VerifyBlobFlags): Promise<void> {
  if (!flags.key) throw new UsageError('verify-blob: --key is required (keyless verification is not supported yet)');
  if (flags.signature !== undefined && flags.bundle !== undefined) throw new UsageError('verify-blob: use either --signature or --bundle, not both');
  if (flags.signature === undefined && flags.bundle === undefined) throw new UsageError('verify-blob: --signature or --bundle is required');

  const { key, source: keySource } = await loadPublicKey(flags.key);
  let signature: Uint8Array | undefined;
  let signatureSource: string | undefined;
  if (flags.signature !== undefined) {
    // As cosign: a path if it exists, else the argument itself is the base64 signature.
    try {
      signature = await readFileBounded(flags.signature, MAX_SIGNATURE_BYTES, 'a signature');
      signatureSource = flags.signature;
    } catch (err) {
      const code = (err as { cause?: NodeJS.ErrnoException }).cause?.code;
      if (code !== 'ENOENT' && code !== 'ENAMETOOLONG') throw err;
      if (flags.signature.length > MAX_SIGNATURE_BYTES) {
        throw new RelsignError(tooLargeMessage('--signature', 'a signature', flags.signature.length, MAX_SIGNATURE_BYTES));
      }
      if (flags.signature.length < 16 || !/^[A-Za-z0-9+/=\s]+$/.test(flags.signature)) throw err;
      signature = Buffer.from(flags.signature, 'latin1');
      signatureSource = 'from --signature';
    }
  }
  let bundle: string | undefined;
  if (flags.bundle !== undefined) bundle = (await readFileBounded(flags.bundle, MAX_BUNDLE_BYTES, 'a bundle')).toString('utf8');
  let trustedRoot: unknown;
  if (flags.trustedRoot !== undefined) {
    const text = (await readFileBounded(flags.trustedRoot, MAX_TRUSTED_ROOT_BYTES, 'a trusted root')).toString('utf8');
    try {
      trustedRoot = JSON.parse(text);
    } catch {
      throw new RelsignError(`${flags.trustedRoot}: not a JSON trusted root`);
    }
  }
  await verifyBlob(file, {
    publicKey: key,
    keySource,
    signature,
    signatureSource,
    bundle,
    bundleSource: flags.bundle,
    ignoreTlog: flags.insecureIgnoreTlog,
    trustedRoot,
  });
  say('Verified OK');
}
