import type { SignConfig } from '../../config/types.js';
import type { Context } from '../../pipeline/context.js';
import { parseReference, repositoryName } from '../../oci/reference.js';
import { signImage, type SignImageOptions, type SignImageResult } from '../../oci/sign/index.js';
import type { SigningIdentity } from '../../sigstore/blob.js';
import { registryClient } from '../../pipeline/registry.js';
import { RelsignError } from '../../util/errors.js';
import type { Signer } from '../../sigstore/index.js';
import type { BuiltinSigners } from './builtin.js';
import type { SignResolver } from './resolve.js';

/**
 * `docker_signs` with `signer: builtin`: signs the pushed manifest by digest
 * (never by tag) and stores the signature in the registry, in the layout(s)
 * `storage` names. Nothing is written to dist.
 */
export async function signImageBuiltin(ctx: Context, cfg: SignConfig, where: string, r: SignResolver, builtin: BuiltinSigners, keyed?: { signer: Signer; annotations: Record<string, string> }): Promise<SignImageResult> {
  const artifact = r.artifact;
  const digest = r.vars.digest;
  if (!digest) throw new RelsignError(`${where}: ${artifact.path} has no digest (was it pushed?)`);
  let ref;
  try {
    ref = parseReference(artifact.path);
  } catch (err) {
    throw new RelsignError(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const repo = { registry: ref.registry, repository: ref.repository };
  const client = registryClient(ctx);
  const desc = await client.headManifest(repo, digest);
  if (!desc) throw new RelsignError(`${where}: ${artifact.path}@${digest} is not in the registry`);
  let annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.annotations ?? {})) annotations[k] = r.apply(v, `annotations.${k}`);
  if (keyed) annotations = keyed.annotations;
  // A pasted cosign command signs with its own key and, like cosign --tlog-upload=false, logs nothing.
  const keys = keyed ? { signer: keyed.signer } : await imageSigningKeys(await builtin.identityFor(cfg, where));
  return signImage({
    registry: client,
    repo,
    dockerReference: repositoryName(ref),
    subject: { mediaType: desc.mediaType, digest, size: desc.size },
    ...keys,
    annotations,
    storage: cfg.storage ?? 'legacy',
    created: ctx.git.commitDate.getTime() > 0 ? ctx.git.commitDate : new Date(),
    signal: ctx.signal,
  });
}

/** The signImage options for a signing identity: the key, and for keyless its certificate; the log client when uploading. */
export async function imageSigningKeys(identity: SigningIdentity): Promise<Pick<SignImageOptions, 'signer' | 'certificate' | 'tlog'>> {
  if (identity.kind === 'key') return { signer: identity.signer, tlog: identity.tlog };
  const cert = await identity.sigstore.certifiedKey();
  return {
    signer: cert.signer,
    certificate: { pem: cert.certificatePem, chainPem: cert.chainPem, der: cert.certificateDer },
    tlog: identity.sigstore,
  };
}

/** ` → tag sha256-….sig, referrer sha256:…` for the log line. */
export function describeImageSignature(r: SignImageResult): string {
  const parts: string[] = [];
  if (r.legacy) parts.push(`${r.legacy.tag}${r.legacy.result === 'present' ? ' (already there)' : ''}`);
  if (r.referrers) parts.push(`referrer ${r.referrers.digest}${r.referrers.result === 'present' ? ' (already there)' : ''}${r.referrers.index === 'tag' ? ' (fallback index)' : ''}`);
  return parts.length ? ` → ${parts.join(', ')}` : '';
}
