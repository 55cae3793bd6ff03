/**
 * Actions behind `relsign sign IMAGE` and `relsign verify IMAGE` (cosign's
 * `sign --key` / `verify --key`). The command modules import this lazily.
 */
import { compileIdentityPolicy, hasIdentityPolicy } from '../sigstore/certificate-identity.js';
import { identityPolicyOf, trustedRootOption, type IdentityPolicyFlags } from '../sigstore/cli.js';
import { loadPublicKey } from '../sigstore/keys.js';
import { getPassword } from '../sigstore/password.js';
import { Signer } from '../sigstore/signer.js';
import type { SigstoreServiceFlags } from '../sigstore/cli.js';
import { RelsignError, UsageError } from '../util/errors.js';
import { RegistryClient } from './client.js';
import { dockerConfigCredentials } from './credentials.js';
import { formatReference, parseReference, repositoryName, type ImageReference } from './reference.js';
import { signImage, SIGNATURE_STORAGES, type SignatureStorage } from './sign/index.js';
import type { Descriptor } from './types.js';
import { formatVerified, ImageVerificationError, verifyImage } from './verify.js';

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** `-a key=value` flags (split on the first `=`, as cosign), later ones win. */
export function parseAnnotationFlags(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`-a ${JSON.stringify(v)}: want key=value`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

interface RegistryFlags {
  allowInsecureRegistry?: boolean;
  allowHttpRegistry?: boolean;
}

function clientFor(ref: ImageReference, flags: RegistryFlags): RegistryClient {
  return new RegistryClient({
    credentials: dockerConfigCredentials({ env: process.env }),
    insecureRegistries: flags.allowInsecureRegistry || flags.allowHttpRegistry ? [ref.registry] : [],
  });
}

function parseImage(image: string): ImageReference {
  if (!image) throw new UsageError('an IMAGE argument is required');
  return parseReference(image);
}

/** Resolves IMAGE (tag or digest) to its manifest descriptor; a digest given must be what the registry has. */
async function resolveImage(client: RegistryClient, ref: ImageReference): Promise<Descriptor> {
  const repo = { registry: ref.registry, repository: ref.repository };
  const wanted = ref.digest ?? ref.tag ?? 'latest';
  const desc = await client.headManifest(repo, wanted);
  if (!desc) throw new ImageVerificationError('image-not-found', `image ${formatReference(ref)} not found`);
  if (ref.digest && desc.digest !== ref.digest) {
    throw new RelsignError(`image ${formatReference(ref)}: the registry answered with digest ${desc.digest}`);
  }
  return desc;
}

export interface SignImageFlags extends RegistryFlags, SigstoreServiceFlags {
  key?: string;
  annotations?: string[];
  storage?: string;
  yes: boolean;
  tlogUpload: boolean;
}

export async function runSignImage(image: string, flags: SignImageFlags): Promise<void> {
  // cosign v3 stores keyless signatures as referrer bundles; key signatures default to the .sig tag (cosign v2).
  const storage = flags.storage ?? (flags.key ? 'legacy' : 'referrers');
  if (!SIGNATURE_STORAGES.includes(storage as SignatureStorage)) {
    throw new UsageError(`--storage ${JSON.stringify(storage)}: want legacy, referrers or both`);
  }
  const annotations = parseAnnotationFlags(flags.annotations);
  const ref = parseImage(image);
  const client = clientFor(ref, flags);
  const desc = await resolveImage(client, ref);
  const { cliSigningIdentity } = await import('../sigstore/cli.js');
  const { imageSigningKeys } = await import('../stages/sign/image.js');
  const { identity, destroy } = await cliSigningIdentity('sign', flags);
  const name = repositoryName(ref);
  say(`Signing ${name}@${desc.digest}${ref.tag && !ref.digest ? ` (tag ${ref.tag})` : ''}`);
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const created = epoch && /^\d{1,12}$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  try {
    const r = await signImage({
      registry: client,
      repo: { registry: ref.registry, repository: ref.repository },
      dockerReference: name,
      subject: desc,
      ...(await imageSigningKeys(identity)),
      annotations,
      storage: storage as SignatureStorage,
      created,
    });
    if (r.legacy) say(`${r.legacy.result === 'present' ? 'Signature already present in' : 'Pushing signature to'}: ${name}:${r.legacy.tag}`);
    if (r.referrers) {
      const where = r.referrers.index === 'tag' ? ` (listed in ${name}:${desc.digest.replace(':', '-')})` : '';
      say(`${r.referrers.result === 'present' ? 'Bundle already attached' : 'Attached bundle'}: ${name}@${r.referrers.digest}${where}`);
    }
  } finally {
    destroy();
  }
}

export interface VerifyImageFlags extends RegistryFlags, IdentityPolicyFlags {
  key?: string;
  annotations?: string[];
  insecureIgnoreTlog?: boolean;
  trustedRoot?: string;
}

export async function runVerifyImage(image: string, flags: VerifyImageFlags): Promise<void> {
  const policy = identityPolicyOf(flags);
  if (flags.key && hasIdentityPolicy(policy)) throw new UsageError('verify: use either --key or the --certificate-* flags (keyless), not both');
  const identity = flags.key ? undefined : compileIdentityPolicy(policy);
  const annotations = parseAnnotationFlags(flags.annotations);
  const ref = parseImage(image);
  const loaded = flags.key ? await loadPublicKey(flags.key) : undefined;
  const root = await trustedRootOption(flags.trustedRoot);
  const client = clientFor(ref, flags);
  const desc = await resolveImage(client, ref);
  const name = repositoryName(ref);
  const verified = await verifyImage({
    registry: client,
    repo: { registry: ref.registry, repository: ref.repository },
    dockerReference: name,
    digest: desc.digest,
    key: loaded ? { key: loaded.key, source: loaded.source } : undefined,
    identity,
    annotations,
    ignoreTlog: flags.insecureIgnoreTlog,
    getTrustedRoot: root.getTrustedRoot,
    trustedRootSource: root.trustedRootSource,
  });
  // cosign's summary of what was checked.
  say('');
  say(`Verification for ${name}@${desc.digest} --`);
  say('The following checks were performed on each of these signatures:');
  say('  - The cosign claims were validated');
  if (!flags.insecureIgnoreTlog) say('  - Existence of the claims in the transparency log was verified offline');
  if (loaded) say('  - The signatures were verified against the specified public key');
  else {
    say('  - The code-signing certificate was verified using trusted certificate authority certificates');
  }
  process.stdout.write(`\n${formatVerified(verified)}\n`);
}
