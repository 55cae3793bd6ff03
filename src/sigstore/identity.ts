/**
 * The OIDC identity token keyless signing exchanges for a Fulcio certificate.
 * Sources, in order: an explicit token (`--identity-token`, a token or a file
 * holding one), `SIGSTORE_ID_TOKEN` (GitLab CI `id_tokens`, or any CI that
 * mints one), then the GitHub Actions token endpoint
 * (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
 * audience `sigstore`). Interactive browser login is not offered.
 *
 * Tokens are secrets: they never appear in messages; callers add them to
 * their redactor.
 */
import { readFile } from 'node:fs/promises';
import { RelsignError } from '../util/errors.js';
import { withRetries, type RetryOptions } from './retry.js';

export const ID_TOKEN_ENV = 'SIGSTORE_ID_TOKEN';
export const GITHUB_TOKEN_URL_ENV = 'ACTIONS_ID_TOKEN_REQUEST_URL';
export const GITHUB_TOKEN_REQUEST_ENV = 'ACTIONS_ID_TOKEN_REQUEST_TOKEN';
export const SIGSTORE_AUDIENCE = 'sigstore';
/** A JWT is a few KB; anything far larger is not one. */
const MAX_TOKEN_BYTES = 64 * 1024;

export const NO_TOKEN_MESSAGE =
  `keyless signing needs an OIDC identity token: none found in --identity-token, ${ID_TOKEN_ENV} (GitLab CI: id_tokens with aud: sigstore) ` +
  `or ${GITHUB_TOKEN_URL_ENV} + ${GITHUB_TOKEN_REQUEST_ENV} (GitHub Actions: give the job "permissions: id-token: write")`;

export interface IdentityTokenOptions {
  /** `--identity-token`: the token itself, or a path to a file holding it. */
  token?: string;
  env: Record<string, string | undefined>;
  retry?: RetryOptions;
  /** Called with every token obtained, so it can be redacted from logs. */
  onToken?: (token: string) => void;
}

/** The claims relsign reports (issuer and subject); the token itself is never shown. */
export interface TokenClaims {
  iss?: string;
  sub?: string;
  email?: string;
  exp?: number;
}

export async function getIdentityToken(o: IdentityTokenOptions): Promise<string> {
  const found = await findToken(o);
  checkJwt(found.token, found.source);
  o.onToken?.(found.token);
  return found.token;
}

async function findToken(o: IdentityTokenOptions): Promise<{ token: string; source: string }> {
  if (o.token !== undefined && o.token.trim() !== '') {
    const value = o.token.trim();
    // A JWT is three base64url parts; anything else is read as a file name.
    if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value)) return { token: value, source: '--identity-token' };
    let text: string;
    try {
      text = await readFile(value, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RelsignError(`--identity-token: neither a JWT nor a readable file (${code === 'ENOENT' ? 'no such file' : (code ?? 'read error')})`);
    }
    return { token: text.trim(), source: '--identity-token file' };
  }
  const env = o.env[ID_TOKEN_ENV];
  if (env !== undefined && env.trim() !== '') return { token: env.trim(), source: ID_TOKEN_ENV };
  const url = o.env[GITHUB_TOKEN_URL_ENV];
  const bearer = o.env[GITHUB_TOKEN_REQUEST_ENV];
  if (url && bearer) return { token: await githubActionsToken(url, bearer, o.retry, o.onToken), source: 'GitHub Actions' };
  if (url || bearer) {
    throw new RelsignError(
      `keyless signing: only one of ${GITHUB_TOKEN_URL_ENV} and ${GITHUB_TOKEN_REQUEST_ENV} is set; give the GitHub Actions job "permissions: id-token: write"`,
    );
  }
  throw new RelsignError(NO_TOKEN_MESSAGE);
}

/** The GitHub Actions OIDC endpoint: GET URL&audience=sigstore with the request token → {"value": JWT}. */
async function githubActionsToken(url: string, bearer: string, retry: RetryOptions | undefined, onToken?: (t: string) => void): Promise<string> {
  onToken?.(bearer);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new RelsignError(`${GITHUB_TOKEN_URL_ENV} is not a URL`);
  }
  target.searchParams.set('audience', SIGSTORE_AUDIENCE);
  // The URL carries no secret (the bearer does); show it without its query.
  const shown = `${target.origin}${target.pathname}`;
  const body = await withRetries<string>(`GitHub Actions OIDC token endpoint ${shown}`, retry, async (signal) => {
    const res = await fetch(target, { headers: { authorization: `bearer ${bearer}`, accept: 'application/json' }, signal });
    const text = await readLimited(res, MAX_TOKEN_BYTES * 2);
    if (!res.ok) return { retryable: res.status === 408 || res.status === 429 || res.status >= 500, status: res.status, statusText: res.statusText };
    return { value: text };
  });
  let value: unknown;
  try {
    value = (JSON.parse(body) as { value?: unknown }).value;
  } catch {
    throw new RelsignError(`GitHub Actions OIDC token endpoint ${shown}: the answer is not JSON`);
  }
  if (typeof value !== 'string' || value === '') throw new RelsignError(`GitHub Actions OIDC token endpoint ${shown}: the answer has no "value"`);
  return value;
}

async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new RelsignError(`identity token answer is larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A token that is not a JWT is rejected here, before any service sees it (and without echoing it). */
function checkJwt(token: string, source: string): void {
  if (token.length > MAX_TOKEN_BYTES) throw new RelsignError(`identity token from ${source} is larger than ${MAX_TOKEN_BYTES} bytes`);
  if (tokenClaims(token) === undefined) throw new RelsignError(`identity token from ${source} is not a JWT (want header.payload.signature)`);
}

/** The token's payload claims, or undefined when it is not a JWT. Not verified: for messages only. */
export function tokenClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return undefined;
    const c = claims as Record<string, unknown>;
    return {
      iss: typeof c.iss === 'string' ? c.iss : undefined,
      sub: typeof c.sub === 'string' ? c.sub : undefined,
      email: typeof c.email === 'string' ? c.email : undefined,
      exp: typeof c.exp === 'number' ? c.exp : undefined,
    };
  } catch {
    return undefined;
  }
}
