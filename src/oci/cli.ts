/**
 * Actions behind `relsign sign IMAGE` and `relsign verify IMAGE` (cosign's
 * `sign --key` / `verify --key`). The command modules import this lazily.
 */
import { loadPublicKey } from '../sigstore/keys.js';
import { getPassword } from '../sigstore/password.js';
import { Signer } from '../sigstore/signer.js';
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

export interface SignImageFlags extends RegistryFlags {
  key?: string;
  annotations?: string[];
  storage: string;
  yes?: boolean;
  tlogUpload?: boolean;
}

export async function runSignImage(image: string, flags: SignImageFlags): Promise<void> {
  if (!flags.key) throw new UsageError('sign: --key is required (keyless signing is not supported yet)');
  if (!SIGNATURE_STORAGES.includes(flags.storage as SignatureStorage)) {
    throw new UsageError(`--storage ${JSON.stringify(flags.storage)}: want legacy, referrers or both`);
  }
  const annotations = parseAnnotationFlags(flags.annotations);
  const ref = parseImage(image);
  const client = clientFor(ref, flags);
  const desc = await resolveImage(client, ref);
  const signer = await Signer.load(flags.key, () => getPassword());
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
      signer,
      annotations,
      storage: flags.storage as SignatureStorage,
      created,
    });
    if (r.legacy) say(`${r.legacy.result === 'present' ? 'Signature already present in' : 'Pushing signature to'}: ${name}:${r.legacy.tag}`);
    if (r.referrers) {
      const where = r.referrers.index === 'tag' ? ` (listed in ${name}:${desc.digest.replace(':', '-')})` : '';
      say(`${r.referrers.result === 'present' ? 'Bundle already attached' : 'Attached bundle'}: ${name}@${r.referrers.digest}${where}`);
    }
  } finally {
    signer.destroy();
  }
  if (flags.tlogUpload) say('relsign: note: not uploaded to a transparency log (Rekor upload is not implemented yet); verify with --insecure-ignore-tlog');
}

export interface VerifyImageFlags extends RegistryFlags {
  key?: string;
  annotations?: string[];
  insecureIgnoreTlog?: boolean;
}

export async function runVerifyImage(image: string, flags: VerifyImageFlags): Promise<void> {
  if (!flags.key) throw new UsageError('verify: --key is required (keyless verification is not supported yet)');
  const annotations = parseAnnotationFlags(flags.annotations);
  const ref = parseImage(image);
  const { key, source } = await loadPublicKey(flags.key);
  const client = clientFor(ref, flags);
  const desc = await resolveImage(client, ref);
  const name = repositoryName(ref);
  const verified = await verifyImage({
    registry: client,
    repo: { registry: ref.registry, repository: ref.repository },
    dockerReference: name,
    digest: desc.digest,
    key: { key, source },
    annotations,
  });
  say('');
  say(`Verification for ${name}@${desc.digest} --`);
  say('The following checks were performed on each of these signatures:');
  say('  - The cosign claims were validated');
  say('  - The signatures were verified against the specified public key');
  if (!flags.insecureIgnoreTlog) {
    say('relsign: note: key signatures carry no transparency-log entry and none was checked (pass --insecure-ignore-tlog to acknowledge)');
  }
  process.stdout.write(`\n${formatVerified(verified)}\n`);
}
