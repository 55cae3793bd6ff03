/**
 * Real registries for tests: Debian's `docker-registry` (distribution 2.8) on
 * 127.0.0.1 with a random free port, a temp storage folder and deletes
 * enabled. Three modes:
 *
 *  - no auth (default);
 *  - `auth: 'htpasswd'`: Basic auth, users hashed with `htpasswd -Bbn`;
 *  - `auth: 'token'`: the Bearer token flow. A token server runs in the test
 *    process (node:http on loopback): it checks Basic credentials (or a
 *    refresh token given as `refreshTokens`) and issues an ES256 JWT whose
 *    header carries the signing certificate (`x5c`); the registry trusts that
 *    self-signed certificate through `rootcertbundle`.
 *
 * Registry output goes to `logFile`, not to the test output. Each call starts
 * its own registry, so parallel vitest workers never share one. Always call
 * `stop()` (in afterAll): it kills the process and removes the temp folder.
 *
 *   const reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'secret' } });
 *   const client = new RegistryClient({ credentials: async () => ({ username: 'alice', password: 'secret' }) });
 *   await client.pushBlob({ registry: reg.host, repository: 'app' }, desc, () => bytes);
 *   await reg.stop();
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TokenRequest {
  method: string;
  user?: string;
  service?: string;
  scopes: string[];
  grantType?: string;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`: use as ImageReference.registry. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  storageDir: string;
  configFile: string;
  logFile: string;
  /** token mode: the token server's URL (realm) and every request it answered. */
  tokenRealm?: string;
  tokenRequests: TokenRequest[];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: 'htpasswd' | 'token';
  /** user → password, for htpasswd and token modes. */
  users?: Record<string, string>;
  /** token mode: refresh token → user, accepted in an OAuth2 `grant_type=refresh_token` POST. */
  refreshTokens?: Record<string, string>;
  /** token mode: may anonymous users pull? (default false) */
  anonymousPull?: boolean;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

interface TokenIssuer {
  certFile: string;
  certDer: Buffer;
  keyPem: string;
}

async function makeIssuer(dir: string): Promise<TokenIssuer> {
  const keyFile = join(dir, 'token-key.pem');
  const certFile = join(dir, 'token-cert.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=relsign test token issuer',
  ]);
  const certPem = await readFile(certFile, 'utf8');
  return { certFile, certDer: Buffer.from(new X509Certificate(certPem).raw), keyPem: await readFile(keyFile, 'utf8') };
}

const ISSUER = 'relsign-test-issuer';
const SERVICE = 'relsign-test-registry';

/** Issues a JWT as distribution's token auth expects (ES256, x5c header, `access` claim). */
function issueToken(issuer: TokenIssuer, subject: string, access: { type: string; name: string; actions: string[] }[]): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'JWT', x5c: [issuer.certDer.toString('base64')] };
  const claims = { iss: ISSUER, sub: subject, aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), { key: createPrivateKey(issuer.keyPem), dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

async function startTokenServer(
  issuer: TokenIssuer,
  opts: RegistryOptions,
  log: TokenRequest[],
): Promise<{ server: http.Server; realm: string }> {
  const users = opts.users ?? {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      let service = url.searchParams.get('service') ?? undefined;
      let user: string | undefined;
      let grantType: string | undefined;
      let denied = false;
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        grantType = form.get('grant_type') ?? undefined;
        service = form.get('service') ?? service;
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        const refresh = form.get('refresh_token') ?? '';
        user = grantType === 'refresh_token' ? opts.refreshTokens?.[refresh] : undefined;
        if (!user) denied = true;
      } else {
        const auth = req.headers.authorization ?? '';
        if (auth.startsWith('Basic ')) {
          const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          const name = decoded.slice(0, colon);
          if (colon > 0 && Object.hasOwn(users, name) && users[name] === decoded.slice(colon + 1)) user = name;
          else denied = true;
        }
      }
      log.push({ method: req.method ?? 'GET', scopes, ...(user ? { user } : {}), ...(service ? { service } : {}), ...(grantType ? { grantType } : {}) });
      if (denied) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
        return;
      }
      const access = scopes
        .map(parseScope)
        .filter((s): s is NonNullable<typeof s> => s !== undefined)
        .map((s) => (user ? s : { ...s, actions: opts.anonymousPull ? s.actions.filter((a) => a === 'pull') : [] }));
      const token = issueToken(issuer, user ?? '', access);
      res.writeHead(200, { 'content-type': 'application/json' });
      // Both names, as Docker Hub does; clients may read either.
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, realm: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/token` };
}

async function waitForRegistry(url: string, child: ChildProcess, logFile: string): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  throw new Error(`docker-registry did not answer on ${url} within 15s; log: ${log.slice(-500)}`);
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'relsign-registry-'));
  const storageDir = join(dir, 'storage');
  const configFile = join(dir, 'config.yml');
  const logFile = join(dir, 'registry.log');
  const tokenRequests: TokenRequest[] = [];
  let tokenServer: http.Server | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (tokenServer) await new Promise((r) => tokenServer!.close(r));
    tokenServer = undefined;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let auth: Record<string, unknown> | undefined;
    let tokenRealm: string | undefined;
    if (opts.auth === 'htpasswd') {
      const lines: string[] = [];
      for (const [user, password] of Object.entries(opts.users ?? {})) {
        const { stdout } = await run('htpasswd', ['-Bbn', user, password]);
        lines.push(stdout.trim());
      }
      const file = join(dir, 'htpasswd');
      await writeFile(file, `${lines.join('\n')}\n`);
      auth = { htpasswd: { realm: 'relsign-test', path: file } };
    } else if (opts.auth === 'token') {
      const issuer = await makeIssuer(dir);
      const started = await startTokenServer(issuer, opts, tokenRequests);
      tokenServer = started.server;
      tokenRealm = started.realm;
      auth = { token: { realm: tokenRealm, service: SERVICE, issuer: ISSUER, rootcertbundle: issuer.certFile, autoredirect: false } };
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      // JSON is YAML: no quoting surprises in paths.
      const config = {
        version: 0.1,
        log: { level: 'info', accesslog: { disabled: true }, formatter: 'text' },
        storage: {
          filesystem: { rootdirectory: storageDir },
          delete: { enabled: true },
          maintenance: { uploadpurging: { enabled: false } },
        },
        http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
        ...(auth ? { auth } : {}),
      };
      await writeFile(configFile, JSON.stringify(config, null, 2));
      const fd = openSync(logFile, 'a');
      child = spawn(REGISTRY_BIN, ['serve', configFile], { stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      closeSync(fd);
      if (await waitForRegistry(url, child, logFile)) {
        const reg: TestRegistry = {
          host: `127.0.0.1:${port}`,
          url,
          port,
          storageDir,
          configFile,
          logFile,
          tokenRequests,
          stop: cleanup,
        };
        if (tokenRealm) reg.tokenRealm = tokenRealm;
        return reg;
      }
      // The port was taken between choosing and binding (another worker): try another.
    }
    throw new Error(`docker-registry would not start; log: ${(await readFile(logFile, 'utf8').catch(() => '')).slice(-500)}`);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** sha256:<hex> of bytes. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
