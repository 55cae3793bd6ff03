import { RegistryClient } from '../oci/client.js';
import { dockerConfigCredentials, insecureHosts, type RegistryLogin } from '../oci/credentials.js';
import type { Context } from './context.js';
import { render } from './template-data.js';

const clients = new WeakMap<Context, RegistryClient>();

/** `registries:` logins with username/password rendered; every rendered password is redacted from then on. */
function registryLogins(ctx: Context): RegistryLogin[] {
  return ctx.config.registries.map((r, i) => {
    const where = `registries[${i}]`;
    const username = r.username !== undefined ? render(ctx, r.username, `${where}.username`) : undefined;
    const password = r.password !== undefined ? render(ctx, r.password, `${where}.password`) : undefined;
    ctx.redactor.add(password);
    return { host: r.host, username, password, insecure: r.insecure === true };
  });
}

/**
 * The run's registry client, shared by the images and docker_signs stages so
 * that logins are rendered once and bearer tokens are cached across both.
 */
export function registryClient(ctx: Context): RegistryClient {
  let client = clients.get(ctx);
  if (!client) {
    const logins = registryLogins(ctx);
    const log = ctx.log.child('registry');
    client = new RegistryClient({
      credentials: dockerConfigCredentials({ env: ctx.env, logins }),
      insecureRegistries: insecureHosts(logins),
      signal: ctx.signal,
      log: { debug: (m) => log.debug(m), warn: (m) => log.warn(m) },
      redact: (t) => ctx.redactor.redact(t),
    });
    clients.set(ctx, client);
  }
  return client;
}
