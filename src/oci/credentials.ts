import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RelsignError, describeError } from '../util/errors.js';

/**
 * Registry credentials: relsign's own `registries:` logins first, then what
 * `docker login` / `docker/login-action` left in the Docker config: `auths`
 * (base64 user:pass or an identity token), `credHelpers` per host, `credsStore`.
 */
export interface Credential {
  username: string;
  password: string;
  /** An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user): exchanged at the token realm. */
  identityToken?: string;
  /** A ready bearer token (`registrytoken`): sent as is. */
  registryToken?: string;
}

export interface RegistryLogin {
  host: string;
  username?: string;
  password?: string;
  insecure?: boolean;
}

export type CredentialResolver = (registry: string) => Promise<Credential | undefined>;

const DOCKER_HUB_KEYS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
/** The key `docker login` uses for Docker Hub, and what credential helpers expect for it. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HELPER_TIMEOUT_MS = 30_000;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_HELPER_OUTPUT = 64 * 1024;

/** `https://host/v1/`, `HOST`, `host/v2` → `host`; every Docker Hub alias → `docker.io`. */
export function normalizeRegistryKey(key: string): string {
  let k = key.trim().toLowerCase();
  k = k.replace(/^[a-z][a-z0-9+.-]{0,15}:\/\//, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  return DOCKER_HUB_KEYS.has(k) ? 'docker.io' : k;
}

/** The hosts of `registries:` entries marked `insecure`, for RegistryClientOptions.insecureRegistries. */
export function insecureHosts(logins: RegistryLogin[]): string[] {
  return logins.filter((l) => l.insecure).map((l) => normalizeRegistryKey(l.host));
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function lookup<T>(map: Record<string, T> | undefined, registry: string): { key: string; value: T } | undefined {
  if (!map || typeof map !== 'object') return undefined;
  const want = normalizeRegistryKey(registry);
  // An exact key wins over a tolerant match (`https://host` vs `host`).
  if (Object.hasOwn(map, registry)) return { key: registry, value: map[registry] as T };
  for (const [key, value] of Object.entries(map)) if (normalizeRegistryKey(key) === want) return { key, value };
  return undefined;
}

function fromAuthEntry(entry: NonNullable<DockerConfig['auths']>[string], where: string): Credential | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  let username = typeof entry.username === 'string' ? entry.username : '';
  let password = typeof entry.password === 'string' ? entry.password : '';
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new RelsignError(`${where}: "auth" is not base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const cred: Credential = { username, password };
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) cred.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === 'string' && entry.registrytoken) cred.registryToken = entry.registrytoken;
  if (!username && !password && !cred.identityToken && !cred.registryToken) return undefined;
  return cred;
}

/** Runs `docker-credential-NAME get` with the server URL on stdin, as docker does. */
export function runCredentialHelper(
  name: string,
  serverUrl: string,
  env: Record<string, string | undefined>,
): Promise<Credential | undefined> {
  if (!HELPER_NAME.test(name)) {
    return Promise.reject(new RelsignError(`docker config: invalid credential helper name ${JSON.stringify(name.slice(0, 64))}`));
  }
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outLen = 0;
    let errText = '';
    let done = false;
    const finish = (err: Error | undefined, value?: Credential): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new RelsignError(`credential helper ${program}: no answer within ${HELPER_TIMEOUT_MS / 1000}s for ${serverUrl}`));
    }, HELPER_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      outLen += d.length;
      if (outLen > MAX_HELPER_OUTPUT) {
        child.kill('SIGKILL');
        finish(new RelsignError(`credential helper ${program}: output larger than ${MAX_HELPER_OUTPUT} bytes`));
      } else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (errText.length < 2000) errText += d.toString('utf8');
    });
    child.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      finish(new RelsignError(`credential helper ${program}: cannot run it (${code === 'ENOENT' ? 'not found on PATH' : describeError(err)})`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        // docker's helpers say "credentials not found in native keychain" for an unknown server.
        if (/credentials not found/i.test(text + errText)) return finish(undefined, undefined);
        const first = (text.trim() || errText.trim()).split('\n')[0]?.slice(0, 200) ?? '';
        return finish(new RelsignError(`credential helper ${program} failed for ${serverUrl} (exit ${code})${first ? `: ${first}` : ''}`));
      }
      let parsed: { Username?: unknown; Secret?: unknown };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        return finish(new RelsignError(`credential helper ${program}: output for ${serverUrl} is not JSON`));
      }
      const username = typeof parsed.Username === 'string' ? parsed.Username : '';
      const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
      if (!secret) return finish(undefined, undefined);
      if (username === '<token>') return finish(undefined, { username: '', password: '', identityToken: secret });
      finish(undefined, { username, password: secret });
    });
  });
}

function dockerConfigPath(env: Record<string, string | undefined>): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

async function loadDockerConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_CONFIG_BYTES) throw new RelsignError(`${file}: larger than ${MAX_CONFIG_BYTES} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof RelsignError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new RelsignError(`${file}: cannot read (${code ?? describeError(err)})`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as DockerConfig) : {};
  } catch (err) {
    throw new RelsignError(`${file}: invalid JSON (${describeError(err)})`);
  }
}

/**
 * Resolves credentials for a registry host: `logins` (relsign's `registries:`
 * with username and password), then the Docker config (`$DOCKER_CONFIG/config.json`
 * or `~/.docker/config.json`): `credHelpers[host]`, `auths[host]`, then `credsStore`.
 */
export function dockerConfigCredentials(
  opts: { env?: Record<string, string | undefined>; logins?: RegistryLogin[] } = {},
): CredentialResolver {
  const env = opts.env ?? process.env;
  const logins = opts.logins ?? [];
  let config: Promise<DockerConfig | undefined> | undefined;
  const file = dockerConfigPath(env);
  return async (registry) => {
    const want = normalizeRegistryKey(registry);
    const login = logins.find((l) => normalizeRegistryKey(l.host) === want && (l.username || l.password));
    if (login) return { username: login.username ?? '', password: login.password ?? '' };
    config ??= loadDockerConfig(file);
    const cfg = await config;
    if (!cfg) return undefined;
    const serverUrl = want === 'docker.io' ? DOCKER_HUB_AUTH_KEY : registry;
    const helper = lookup(cfg.credHelpers, registry);
    if (helper && typeof helper.value === 'string' && helper.value) return runCredentialHelper(helper.value, serverUrl, env);
    const auth = lookup(cfg.auths, registry);
    if (auth) {
      const cred = fromAuthEntry(auth.value, `${file}: auths[${JSON.stringify(auth.key)}]`);
      if (cred) return cred;
    }
    if (typeof cfg.credsStore === 'string' && cfg.credsStore) {
      return runCredentialHelper(cfg.credsStore, auth?.key ?? serverUrl, env);
    }
    return undefined;
  };
}
