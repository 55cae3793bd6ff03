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
import { bundleOf, legacyBundleOf, privacyNotice, signBlob, writePublic, type SignedBlob, type SigningIdentity } from './blob.js';
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

export interface SignBlobFlags extends SigstoreServiceFlags {
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

/** Flags shared by `sign-blob` and `sign` for the Sigstore services (cosign's names). */
export interface SigstoreServiceFlags {
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  timestampServerUrl?: string;
  /** Per-request timeout for the services, e.g. `30s`. */
  timeout?: string;
}

/**
 * The signing identity for a CLI command: the key (with a Rekor client when
 * uploading) or keyless. Asks for consent before anything goes to the public
 * log, as cosign does: `--yes`, or "y" at the prompt on a terminal.
 */
export async function cliSigningIdentity(
  command: string,
  flags: SigstoreServiceFlags & { key?: string; tlogUpload: boolean; yes: boolean },
  options: { stdinBusy?: boolean } = {},
): Promise<{ identity: SigningIdentity; keyless: boolean; destroy(): void }> {
  const { SigstoreClient, checkServiceURL, resolveServiceURLs } = await import('./services.js');
  const keyless = !flags.key;
  if (keyless && !flags.tlogUpload) throw new UsageError(`${command}: keyless signing always records the signature in the transparency log; --tlog-upload=false needs --key`);
  const { parseDuration } = await import('./retry.js');
  const timeoutMs = flags.timeout !== undefined ? parseDuration(flags.timeout, '--timeout') : undefined;
  // Flags first, then RELSIGN_*_URL: private deployments can point pasted cosign arguments at their services.
  const url = (flag: string | undefined, name: string, envName: string) => {
    if (flag) return checkServiceURL(flag, name);
    const env = process.env[envName];
    return env ? checkServiceURL(env, envName) : undefined;
  };
  const given = {
    fulcioURL: url(flags.fulcioUrl, '--fulcio-url', 'RELSIGN_FULCIO_URL'),
    rekorURL: url(flags.rekorUrl, '--rekor-url', 'RELSIGN_REKOR_URL'),
    tsaURL: url(flags.timestampServerUrl, '--timestamp-server-url', 'RELSIGN_TSA_URL'),
  };
  let signer: Signer | undefined;
  if (flags.key) signer = await Signer.load(flags.key, () => getPassword());
  if (!flags.tlogUpload) return { identity: { kind: 'key', signer: signer! }, keyless: false, destroy: () => signer?.destroy() };

  // The token first: without one there is nothing to confirm.
  const { getIdentityToken } = await import('./identity.js');
  const token = keyless ? await getIdentityToken({ token: flags.identityToken, env: process.env, retry: { timeoutMs } }) : undefined;
  // Refuse before any network access when consent cannot be given.
  const refused = 'transparency log upload not confirmed: pass --yes to agree, or --tlog-upload=false (with --key) to sign without it';
  const canPrompt = !options.stdinBusy && process.stdin.isTTY === true;
  if (!flags.yes && !canPrompt) throw new UsageError(refused);
  const urls = await resolveServiceURLs(given, { fulcio: keyless, rekor: true }, (line) => say(`relsign: ${line}`));
  await confirmUpload(privacyNotice(keyless, urls.rekorURL!), flags.yes, refused);
  const client = new SigstoreClient({
    ...urls,
    retry: { timeoutMs },
    identityToken: token === undefined ? undefined : async () => token,
  });
  if (keyless) return { identity: { kind: 'keyless', sigstore: client }, keyless, destroy: () => undefined };
  return { identity: { kind: 'key', signer: signer!, tlog: client }, keyless, destroy: () => signer?.destroy() };
}

async function confirmUpload(notice: string, yes: boolean, refused: string): Promise<void> {
  say(notice);
  if (yes) return;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('Are you sure you would like to continue? [y/N] ');
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError(refused);
  } finally {
    rl.close();
  }
}

export async function runSignBlob(file: string, flags: SignBlobFlags): Promise<void> {
  if (flags.newBundleFormat && !flags.bundle) throw new UsageError('must specify --bundle with --new-bundle-format');
  const outputSignature = flags.outputSignature ?? flags.output;
  if (file !== '-') {
    // Fail on a missing input before asking for a password.
    const st = await stat(file).catch((err: unknown) => {
      throw fileError(err, file);
    });
    if (st.isDirectory()) throw new RelsignError(`cannot read ${file}: is a directory`);
  }
  const { identity, destroy } = await cliSigningIdentity('sign-blob', flags, { stdinBusy: file === '-' });
  let signed: SignedBlob;
  try {
    signed = await signBlob(identity, file === '-' ? { stream: process.stdin } : { file });
  } finally {
    destroy();
  }
  const sig = signed.sig;
  if (signed.tlogEntry) say(`tlog entry created with index: ${signed.tlogEntry.logIndex}`);

  if (flags.bundle) {
    await writePublic(flags.bundle, JSON.stringify(flags.newBundleFormat ? bundleOf(signed) : legacyBundleOf(signed)));
    say(`Wrote bundle to file ${flags.bundle}`);
  }
  if (outputSignature) {
    await writePublic(outputSignature, flags.b64 ? sig.signature.toString('base64') : sig.signature);
    say(`Wrote signature to file ${outputSignature}`);
  } else if (!flags.newBundleFormat) {
    if (flags.b64) process.stdout.write(`${sig.signature.toString('base64')}\n`);
    else process.stdout.write(sig.signature);
  }
  if (flags.outputCertificate) {
    if (signed.certificatePem) {
      // As cosign: base64 of the PEM unless --b64=false.
      await writePublic(flags.outputCertificate, flags.b64 ? Buffer.from(signed.certificatePem).toString('base64') : signed.certificatePem);
      say(`Wrote certificate to file ${flags.outputCertificate}`);
    } else {
      say(`relsign: note: no certificate to write for a key-based signature (--output-certificate ${flags.outputCertificate} ignored)`);
    }
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
  const root = await trustedRootOption(flags.trustedRoot);
  await verifyBlob(file, {
    publicKey: loaded?.key,
    keySource: loaded?.source,
    identity,
    signature,
    signatureSource,
    bundle,
    bundleSource: flags.bundle,
    ignoreTlog: flags.insecureIgnoreTlog,
    ...root,
  });
  say('Verified OK');
}
