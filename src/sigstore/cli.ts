/**
 * Actions behind `relsign generate-key-pair | import-key-pair | sign-blob | verify-blob`.
 * The command modules import this lazily, so start-up stays fast.
 */
import { readFile, stat } from 'node:fs/promises';
import { RelsignError, UsageError } from '../util/errors.js';
import { fileError } from './errors.js';
import { assertKeyPairWritable, generateKeyPair, importKeyPair, loadPublicKey, parseImportablePrivateKey, writeKeyPair } from './keys.js';
import { getPassword } from './password.js';
import { Signer } from './signer.js';
import { compileIdentityPolicy, hasIdentityPolicy, type IdentityPolicy } from './certificate-identity.js';
import { publicGoodTrustedRoot, readTrustedRootFile } from './trusted-root.js';
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
  let text: string;
  try {
    text = await readFile(flags.key, 'utf8');
  } catch (err) {
    throw fileError(err, flags.key);
  }
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

export interface VerifyBlobFlags extends IdentityPolicyFlags {
  key?: string;
  signature?: string;
  bundle?: string;
  insecureIgnoreTlog: boolean;
  trustedRoot?: string;
}

/** cosign's certificate flags, as commander names them. */
export interface IdentityPolicyFlags {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
}

export function identityPolicyOf(flags: IdentityPolicyFlags): IdentityPolicy {
  return {
    identity: flags.certificateIdentity,
    identityRegexp: flags.certificateIdentityRegexp,
    issuer: flags.certificateOidcIssuer,
    issuerRegexp: flags.certificateOidcIssuerRegexp,
  };
}

/** `--trusted-root FILE`, read now; else the public-good root through TUF, fetched only if a check needs it. */
export async function trustedRootOption(file: string | undefined): Promise<{ trustedRoot?: unknown; trustedRootSource?: string; getTrustedRoot: () => Promise<unknown> }> {
  if (file !== undefined) {
    const trustedRoot = await readTrustedRootFile(file);
    return { trustedRoot, trustedRootSource: file, getTrustedRoot: async () => trustedRoot };
  }
  let fetched: Promise<unknown> | undefined; // once per command, however many signatures need it
  return { trustedRootSource: 'public-good (TUF)', getTrustedRoot: () => (fetched ??= publicGoodTrustedRoot()) };
}

export async function runVerifyBlob(file: string, flags: VerifyBlobFlags): Promise<void> {
  const policy = identityPolicyOf(flags);
  if (flags.key && hasIdentityPolicy(policy)) {
    throw new UsageError('verify-blob: use either --key or the --certificate-* flags (keyless), not both');
  }
  const identity = flags.key ? undefined : compileIdentityPolicy(policy);
  if (flags.signature !== undefined && flags.bundle !== undefined) throw new UsageError('verify-blob: use either --signature or --bundle, not both');
  if (!flags.key && flags.bundle === undefined) {
    throw new UsageError('verify-blob: keyless verification needs --bundle (relsign checks the certificate and the transparency log offline, from the bundle)');
  }
  if (flags.signature === undefined && flags.bundle === undefined) throw new UsageError('verify-blob: --signature or --bundle is required');

  const loaded = flags.key ? await loadPublicKey(flags.key) : undefined;
  let signature: Uint8Array | undefined;
  if (flags.signature !== undefined) {
    // As cosign: a path if it exists, else the argument itself is the base64 signature.
    try {
      signature = await readFile(flags.signature);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, flags.signature);
      if (!/^[A-Za-z0-9+/=\s]+$/.test(flags.signature) || flags.signature.length < 16) throw fileError(err, flags.signature);
      signature = Buffer.from(flags.signature, 'latin1');
    }
  }
  let bundle: string | undefined;
  if (flags.bundle !== undefined) {
    try {
      bundle = await readFile(flags.bundle, 'utf8');
    } catch (err) {
      throw fileError(err, flags.bundle);
    }
  }
  const root = await trustedRootOption(flags.trustedRoot);
  await verifyBlob(file, {
    publicKey: loaded?.key,
    keySource: loaded?.source,
    identity,
    signature,
    bundle,
    bundleSource: flags.bundle,
    ignoreTlog: flags.insecureIgnoreTlog,
    ...root,
  });
  say('Verified OK');
}
