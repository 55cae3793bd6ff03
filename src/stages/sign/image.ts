import type { SignConfig } from '../../config/types.js';
import type { Context } from '../../pipeline/context.js';
import { RegistryClient } from '../../oci/client.js';
import { dockerConfigCredentials, type RegistryLogin } from '../../oci/credentials.js';
import { parseReference, repositoryName } from '../../oci/reference.js';
import { signImage, type SignImageResult } from '../../oci/sign/index.js';
import { asUserError, templateData } from '../../pipeline/template-data.js';
import { renderTemplate } from '../../template/index.js';
import { RelsignError } from '../../util/errors.js';
import type { BuiltinSigners } from './builtin.js';
import type { SignResolver } from './resolve.js';

const clients = new WeakMap<Context, RegistryClient>();

/** `registries:` logins with username/password rendered (they are templates, e.g. `{{ .Env.REGISTRY_TOKEN }}`). */
function registryLogins(ctx: Context): RegistryLogin[] {
  const raw = ctx.config.registries ?? [];
  return raw
    .filter((l) => l && typeof l.host === 'string')
    .map((l, i) => {
      const render = (text: string | undefined, field: string): string | undefined =>
        text === undefined ? undefined : asUserError(() => renderTemplate(text, templateData(ctx), { name: `registries[${i}].${field}` }));
      const password = render(l.password, 'password');
      if (password) ctx.redactor.add(password);
      return { ...l, username: render(l.username, 'username'), password };
    });
}

/** One registry client per run: tokens are cached across every image signed. */
export function registryClientFor(ctx: Context): RegistryClient {
  let c = clients.get(ctx);
  if (!c) {
    const logins = registryLogins(ctx);
    c = new RegistryClient({
      credentials: dockerConfigCredentials({ env: ctx.env, logins }),
      insecureRegistries: logins.filter((l) => l.insecure).map((l) => l.host),
      signal: ctx.signal,
      log: { debug: (m) => ctx.log.debug(m), warn: (m) => ctx.log.warn(m) },
      redact: (t) => ctx.redactor.redact(t),
    });
    clients.set(ctx, c);
  }
  return c;
}

/**
 * `docker_signs` with `signer: builtin`: signs the pushed manifest by digest
 * (never by tag) and stores the signature in the registry, in the layout(s)
 * `storage` names. Nothing is written to dist.
 */
export async function signImageBuiltin(ctx: Context, cfg: SignConfig, where: string, r: SignResolver, builtin: BuiltinSigners): Promise<SignImageResult> {
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
  const client = registryClientFor(ctx);
  const desc = await client.headManifest(repo, digest);
  if (!desc) throw new RelsignError(`${where}: ${artifact.path}@${digest} is not in the registry`);
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.annotations ?? {})) annotations[k] = r.apply(v, `annotations.${k}`);
  const signer = await builtin.signerFor(cfg, where);
  return signImage({
    registry: client,
    repo,
    dockerReference: repositoryName(ref),
    subject: { mediaType: desc.mediaType, digest, size: desc.size },
    signer,
    annotations,
    storage: cfg.storage ?? 'legacy',
    created: ctx.git.commitDate.getTime() > 0 ? ctx.git.commitDate : new Date(),
    signal: ctx.signal,
  });
}

/** ` → tag sha256-….sig, referrer sha256:…` for the log line. */
export function describeImageSignature(r: SignImageResult): string {
  const parts: string[] = [];
  if (r.legacy) parts.push(`${r.legacy.tag}${r.legacy.result === 'present' ? ' (already there)' : ''}`);
  if (r.referrers) parts.push(`referrer ${r.referrers.digest}${r.referrers.result === 'present' ? ' (already there)' : ''}${r.referrers.index === 'tag' ? ' (fallback index)' : ''}`);
  return parts.length ? ` → ${parts.join(', ')}` : '';
}
