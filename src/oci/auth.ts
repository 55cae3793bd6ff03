import { RelsignError } from '../util/errors.js';
import type { Credential, CredentialResolver } from './credentials.js';
import { discard, readLimited, send, type TransportOptions } from './http.js';

/**
 * Registry authentication as the distribution spec's token flow describes it:
 * answer a 401's `WWW-Authenticate` challenge with Basic credentials, or fetch
 * a Bearer token for the needed scopes from the challenge's realm. Tokens are
 * cached per registry and scope set until shortly before they expire.
 */

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const MAX_CHALLENGE = 4096;
const MAX_TOKEN_RESPONSE = 1024 * 1024;
/** Tokens without expires_in live 60 s (distribution spec); renew 10 s early. */
const DEFAULT_TOKEN_LIFETIME_S = 60;
const EXPIRY_SLACK_MS = 10_000;

/** Parses `Bearer realm="…",service="…",scope="…"` (the first challenge of the header). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const text = header.slice(0, MAX_CHALLENGE);
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]{0,30})(?:\s+|$)/.exec(text);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  let i = m[0].length;
  // key=value or key="quoted, value" pairs separated by commas; one pass, no backtracking.
  while (i < text.length) {
    while (i < text.length && (text[i] === ' ' || text[i] === ',' || text[i] === '\t')) i++;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_-]/.test(text[i] as string)) i++;
    const key = text.slice(keyStart, i).toLowerCase();
    if (!key || text[i] !== '=') break;
    i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++;
    } else {
      const start = i;
      while (i < text.length && text[i] !== ',' && text[i] !== ' ') i++;
      value = text.slice(start, i);
    }
    if (!Object.hasOwn(params, key)) params[key] = value;
  }
  return { scheme: m[1].toLowerCase(), params };
}

interface CachedToken {
  token: string;
  expires: number;
}

type RegistryScheme = { kind: 'anonymous' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

export interface AuthContext {
  transport: () => TransportOptions;
  credentials: CredentialResolver;
  /** Whether http:// is allowed for a host (the token realm must be https otherwise). */
  allowHttp: (host: string) => boolean;
}

export class RegistryAuth {
  private readonly schemes = new Map<string, RegistryScheme>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly creds = new Map<string, Promise<Credential | undefined>>();

  constructor(private readonly ctx: AuthContext) {}

  credential(registry: string): Promise<Credential | undefined> {
    let c = this.creds.get(registry);
    if (!c) {
      c = this.ctx.credentials(registry);
      this.creds.set(registry, c);
    }
    return c;
  }

  /** The user name to show in an authentication error (never the password). */
  async userLabel(registry: string): Promise<string> {
    const c = await this.credential(registry).catch(() => undefined);
    if (!c) return 'anonymous';
    if (c.username) return `user ${c.username}`;
    return c.identityToken || c.registryToken ? 'a token' : 'anonymous';
  }

  /** The Authorization header for a request, when the registry's scheme is known. */
  async header(registry: string, scopes: string[]): Promise<string | undefined> {
    const scheme = this.schemes.get(registry);
    if (!scheme || scheme.kind === 'anonymous') return undefined;
    if (scheme.kind === 'basic') {
      const c = await this.credential(registry);
      if (!c) return undefined;
      return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    }
    const token = await this.token(registry, scheme, scopes);
    return token ? `Bearer ${token}` : undefined;
  }

  /** Learns the registry's scheme from a 401; returns false when the challenge cannot be answered. */
  async onChallenge(registry: string, header: string | null): Promise<boolean> {
    const ch = parseChallenge(header);
    if (!ch) return false;
    if (ch.scheme === 'basic') {
      const c = await this.credential(registry);
      if (!c) return false;
      this.schemes.set(registry, { kind: 'basic' });
      return true;
    }
    if (ch.scheme === 'bearer') {
      const realm = ch.params.realm;
      if (!realm) throw new RelsignError(`registry ${registry}: Bearer challenge without a realm`);
      const scheme: RegistryScheme = { kind: 'bearer', realm };
      if (ch.params.service !== undefined) scheme.service = ch.params.service;
      const prev = this.schemes.get(registry);
      this.schemes.set(registry, scheme);
      // A second 401 with the same scheme means the token was refused: drop cached tokens so the next try fetches anew.
      if (prev?.kind === 'bearer') for (const k of [...this.tokens.keys()]) if (k.startsWith(`${registry} `)) this.tokens.delete(k);
      return true;
    }
    return false;
  }

  private async token(registry: string, scheme: { realm: string; service?: string }, scopes: string[]): Promise<string | undefined> {
    const key = `${registry} ${[...scopes].sort().join(' ')}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return cached.token;
    const c = await this.credential(registry);
    if (c?.registryToken) return c.registryToken;
    let realm: URL;
    try {
      realm = new URL(scheme.realm);
    } catch {
      throw new RelsignError(`registry ${registry}: invalid token realm ${JSON.stringify(scheme.realm.slice(0, 100))}`);
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.ctx.allowHttp(realm.host))) {
      throw new RelsignError(`registry ${registry}: token realm ${realm.origin} is not https`);
    }
    const transport = this.ctx.transport();
    let res: Response;
    if (c?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'relsign' });
      if (scheme.service !== undefined) form.set('service', scheme.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      const body = Buffer.from(form.toString());
      res = await send(
        { method: 'POST', url: realm, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: () => body },
        transport,
      );
    } else {
      const url = new URL(realm);
      if (scheme.service !== undefined) url.searchParams.set('service', scheme.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (c && (c.username || c.password)) {
        headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      }
      res = await send({ method: 'GET', url, headers }, transport);
    }
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      throw new RelsignError(
        `registry ${registry}: authentication failed (${res.status}) for ${await this.userLabel(registry)} at token service ${realm.host}`,
      );
    }
    if (!res.ok) {
      await discard(res);
      throw new RelsignError(`registry ${registry}: token service ${realm.host} answered ${res.status}`);
    }
    const bytes = await readLimited(res, MAX_TOKEN_RESPONSE, () => `registry ${registry}: token service ${realm.host}`);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
    } catch {
      throw new RelsignError(`registry ${registry}: token service ${realm.host} did not answer JSON`);
    }
    const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || !token) throw new RelsignError(`registry ${registry}: token service ${realm.host} gave no token`);
    const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    this.tokens.set(key, { token, expires: Date.now() + Math.max(0, lifetime * 1000 - EXPIRY_SLACK_MS) });
    return token;
  }
}
