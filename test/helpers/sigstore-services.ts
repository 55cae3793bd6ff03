/**
 * Sigstore services for tests: `@sigstore/mock`'s Fulcio, Rekor (v1 API) and
 * TSA handlers, each served by its own node:http server on 127.0.0.1 (nock
 * does not intercept `fetch`, so the services are real HTTP endpoints), plus
 * a trusted root JSON (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`)
 * built from the mock's keys and written to a temp file.
 *
 * The Fulcio front checks the identity token the way a real Fulcio would: an
 * ES256 JWT signed by this helper's OIDC key (`makeIdToken`), audience
 * `sigstore`, not expired. The certificate SAN follows Fulcio's rules for the
 * issuer: GitHub Actions → `https://github.com/<job_workflow_ref>`, GitLab →
 * `https://gitlab.com/<ci_config_ref_uri>`, otherwise `email` or `sub`.
 *
 * The Rekor front stores dsse entries in Rekor's canonical form (the mock
 * would log the proposed entry verbatim, which no verifier accepts).
 *
 * Faults are injected per service with `fault(service, …)`: answer `status`
 * for the next `times` requests (e.g. 502 twice), or `hang` (accept the
 * request, never answer). `requests` counts what each service received.
 *
 *   const s = await startSigstoreServices();
 *   const token = s.makeIdToken();                 // GitHub-shaped
 *   s.fault('rekor', { status: 502, times: 2 });
 *   … sign with s.fulcioURL / s.rekorURL / s.tsaURL, verify with s.trustedRootPath …
 *   await s.stop();
 */
import { createHash, generateKeyPairSync, sign as signData, verify as verifyData, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
  type HandlerFn,
} from '@sigstore/mock';
import { RFC3161Timestamp } from '@sigstore/core';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';

export type SigstoreService = 'fulcio' | 'rekor' | 'tsa';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const GITLAB_ISSUER = 'https://gitlab.com';

/** The identity (certificate SAN) and issuer a default `makeIdToken()` yields. */
export const DEFAULT_IDENTITY = 'https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0';
export const DEFAULT_ISSUER = GITHUB_ISSUER;

export interface Fault {
  /** HTTP status to answer instead of the real handler (e.g. 502, 429). */
  status?: number;
  /** Accept the request and never answer (until stop()). */
  hang?: boolean;
  /** How many requests the fault applies to; default: all following requests. */
  times?: number;
}

export interface SigstoreServices {
  fulcioURL: string;
  rekorURL: string;
  tsaURL: string;
  /** Trusted root file with the mock CA, CT log, Rekor and TSA keys. */
  trustedRootPath: string;
  /** The same trusted root, parsed (protojson). */
  trustedRoot: Record<string, unknown>;
  /** The temp folder holding trustedRootPath; removed by stop(). */
  dir: string;
  /** An OIDC identity token the mock Fulcio accepts; claims override GitHub-shaped defaults. */
  makeIdToken(claims?: Record<string, unknown>): string;
  /** A token signed by a key the mock Fulcio does not trust. */
  makeForeignIdToken(claims?: Record<string, unknown>): string;
  fault(service: SigstoreService, fault: Fault | null): void;
  /** Requests received per service (faulted ones included). */
  requests: Record<SigstoreService, number>;
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function makeJwt(key: KeyObject, claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'relsign-test' }));
  const body = b64url(JSON.stringify(claims));
  const sig = signData('sha256', Buffer.from(`${header}.${body}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${body}.${b64url(sig)}`;
}

function githubClaims(now: number): Record<string, unknown> {
  return {
    iss: GITHUB_ISSUER,
    aud: 'sigstore',
    sub: 'repo:octo-org/octo-repo:ref:refs/tags/v1.0.0',
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: 'relsign-test-token',
    ref: 'refs/tags/v1.0.0',
    sha: '0123456789abcdef0123456789abcdef01234567',
    repository: 'octo-org/octo-repo',
    repository_id: '123456',
    repository_owner: 'octo-org',
    repository_owner_id: '654321',
    repository_visibility: 'public',
    run_id: '42',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    actor: 'octocat',
    workflow: 'release',
    event_name: 'push',
    job_workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0',
    job_workflow_sha: '0123456789abcdef0123456789abcdef01234567',
    workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0',
    workflow_sha: '0123456789abcdef0123456789abcdef01234567',
  };
}

/** Fulcio's SAN rules for the issuers tests use. */
function subjectFor(claims: Record<string, unknown>): string {
  if (claims.iss === GITHUB_ISSUER && typeof claims.job_workflow_ref === 'string') {
    return `https://github.com/${claims.job_workflow_ref}`;
  }
  if (claims.iss === GITLAB_ISSUER && typeof claims.ci_config_ref_uri === 'string') {
    return `https://${claims.ci_config_ref_uri}`;
  }
  if (typeof claims.email === 'string') return claims.email;
  return String(claims.sub ?? '');
}

class TokenRejected extends Error {}

/** Check the JWT as Fulcio does: signature by the trusted OIDC key, audience, expiry. */
function checkToken(token: string, oidcPublicKey: KeyObject): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenRejected('identity token is not a JWT');
  const [h, p, s] = parts as [string, string, string];
  const ok = verifyData('sha256', Buffer.from(`${h}.${p}`), { key: oidcPublicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) throw new TokenRejected('identity token signature is not from a trusted issuer');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  const aud = claims.aud;
  if (!(aud === 'sigstore' || (Array.isArray(aud) && aud.includes('sigstore')))) {
    throw new TokenRejected('identity token audience is not "sigstore"');
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) throw new TokenRejected('identity token expired');
  return claims;
}

/** Rekor's canonical dsse v0.0.1 body for a proposed entry (hashes, signature and verifier); other kinds unchanged. */
function canonicalDsse(body: string): string {
  let entry: { kind?: string; apiVersion?: string; spec?: { proposedContent?: { envelope?: string; verifiers?: string[] } } };
  try {
    entry = JSON.parse(body);
  } catch {
    return body;
  }
  const proposed = entry.spec?.proposedContent;
  if (entry.kind !== 'dsse' || !proposed?.envelope) return body;
  const env = JSON.parse(proposed.envelope) as { payload: string; signatures: Array<{ sig: string }> };
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  return JSON.stringify({
    apiVersion: entry.apiVersion ?? '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha(proposed.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha(Buffer.from(env.payload, 'base64')) },
      signatures: env.signatures.map((s, i) => ({ signature: s.sig, verifier: proposed.verifiers?.[i] ?? proposed.verifiers?.[0] })),
    },
  });
}

interface Served {
  url: string;
  server: http.Server;
}

async function serve(
  name: SigstoreService,
  routes: Record<string, HandlerFn>,
  state: { faults: Partial<Record<SigstoreService, Fault>>; requests: Record<SigstoreService, number> },
): Promise<Served> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 8 * 1024 * 1024) {
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      state.requests[name] += 1;
      const fault = state.faults[name];
      if (fault && (fault.times === undefined || fault.times > 0)) {
        if (fault.times !== undefined) fault.times -= 1;
        if (fault.hang) return; // never answer
        res.writeHead(fault.status ?? 500, { 'content-type': 'text/plain' });
        res.end(`injected fault ${fault.status ?? 500}`);
        return;
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const fn = req.method === 'POST' ? routes[path] : undefined;
      if (!fn) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      fn(Buffer.concat(chunks).toString('utf8')).then(
        ({ statusCode, response, contentType }) => {
          res.writeHead(statusCode, { 'content-type': contentType ?? 'text/plain' });
          res.end(typeof response === 'string' ? response : Buffer.from(response.buffer, response.byteOffset, response.byteLength));
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

function der(b: ArrayBufferView): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export async function startSigstoreServices(): Promise<SigstoreServices> {
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const oidcKeys = ec();
  const foreignKeys = ec();
  const state = {
    faults: {} as Partial<Record<SigstoreService, Fault>>,
    requests: { fulcio: 0, rekor: 0, tsa: 0 } as Record<SigstoreService, number>,
  };

  const ctLogKeys = ec();
  const ctLog = await initializeCTLog(ctLogKeys);
  const caKeys = ec();
  const ca = await initializeCA(caKeys, ctLog);
  const tsaKeys = ec();
  const tsa = await initializeTSA(tsaKeys);

  // Fulcio: verify the token ourselves, then hand the mock a token whose
  // `relsign_san` claim carries the SAN Fulcio would derive.
  const fulcio = fulcioHandler(ca, { subjectClaim: 'relsign_san' });
  const fulcioFront: HandlerFn = async (body) => {
    let json: { credentials?: { oidcIdentityToken?: string } } & Record<string, unknown>;
    try {
      json = JSON.parse(body);
    } catch {
      return { statusCode: 400, response: 'request body is not JSON' };
    }
    const token = json.credentials?.oidcIdentityToken;
    if (typeof token !== 'string') return { statusCode: 400, response: 'missing credentials.oidcIdentityToken' };
    let claims: Record<string, unknown>;
    try {
      claims = checkToken(token, oidcKeys.publicKey);
    } catch (e) {
      if (e instanceof TokenRejected) return { statusCode: 401, response: e.message };
      return { statusCode: 400, response: 'identity token is malformed' };
    }
    const rewritten = makeJwt(oidcKeys.privateKey, { ...claims, relsign_san: subjectFor(claims) });
    return fulcio.fn(JSON.stringify({ ...json, credentials: { oidcIdentityToken: rewritten } }));
  };

  const fulcioServed = await serve('fulcio', { [fulcio.path]: fulcioFront }, state);
  // The log's URL is only known after the server listens; the handler is bound late.
  const rekorRoutes: Record<string, HandlerFn> = {};
  const rekorServed = await serve('rekor', rekorRoutes, state);
  const tlogKeys = ec();
  const tlog = await initializeTLog(rekorServed.url, tlogKeys);
  const rekor = rekorHandler(tlog);
  // The mock logs the proposed entry verbatim; Rekor stores a dsse entry in its canonical form.
  rekorRoutes[rekor.path] = async (body) => rekor.fn(canonicalDsse(body));
  const tsaH = tsaHandler(tsa);
  // The mock TSA encodes its time with pkijs, which (as DER allows) drops trailing zeros of
  // the milliseconds ("….12Z"); @sigstore/core reads exactly three digits, so about one
  // timestamp in ten could not be read. Ask again (bounded) until the time is readable, so
  // tests do not depend on the clock's milliseconds.
  const readableTsa: HandlerFn = async (body) => {
    let result = await tsaH.fn(body);
    for (let i = 0; i < 20 && result.statusCode === 201; i++) {
      try {
        void RFC3161Timestamp.parse(Buffer.from(result.response as string | Buffer)).signingTime;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 3));
        result = await tsaH.fn(body);
      }
    }
    return result;
  };
  const tsaServed = await serve('tsa', { [tsaH.path]: readableTsa }, state);

  // Valid from an hour ago so clock skew between mock and verifier never matters.
  const start = new Date(Date.now() - 3600_000);
  const spki = (k: KeyObject) => k.export({ format: 'der', type: 'spki' });
  const root = TrustedRoot.toJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: rekorServed.url,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: {
          rawBytes: tlog.publicKey,
          keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
          validFor: { start, end: undefined },
        },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest() },
        checkpointKeyId: undefined,
        operator: 'relsign-test',
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: fulcioServed.url,
        certChain: { certificates: [{ rawBytes: der(ca.rootCertificate) }] },
        validFor: { start, end: undefined },
        operator: 'relsign-test',
      },
    ],
    ctlogs: [
      {
        baseUrl: 'http://127.0.0.1/ctlog',
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: {
          rawBytes: spki(ctLogKeys.publicKey),
          keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
          validFor: { start, end: undefined },
        },
        logId: { keyId: der(ctLog.logID) },
        checkpointKeyId: undefined,
        operator: 'relsign-test',
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: tsaServed.url,
        certChain: { certificates: [{ rawBytes: der(tsa.intCertificate) }, { rawBytes: der(tsa.rootCertificate) }] },
        validFor: { start, end: undefined },
        operator: 'relsign-test',
      },
    ],
  }) as Record<string, unknown>;

  const dir = await mkdtemp(join(tmpdir(), 'relsign-sigstore-'));
  const trustedRootPath = join(dir, 'trusted_root.json');
  await writeFile(trustedRootPath, JSON.stringify(root, null, 2) + '\n');

  const servers = [fulcioServed, rekorServed, tsaServed];
  return {
    fulcioURL: fulcioServed.url,
    rekorURL: rekorServed.url,
    tsaURL: tsaServed.url,
    trustedRootPath,
    trustedRoot: root,
    dir,
    makeIdToken(claims = {}) {
      return makeJwt(oidcKeys.privateKey, { ...githubClaims(Math.floor(Date.now() / 1000)), ...claims });
    },
    makeForeignIdToken(claims = {}) {
      return makeJwt(foreignKeys.privateKey, { ...githubClaims(Math.floor(Date.now() / 1000)), ...claims });
    },
    fault(service, fault) {
      if (fault === null) delete state.faults[service];
      else state.faults[service] = { ...fault };
    },
    requests: state.requests,
    async stop() {
      for (const s of servers) s.server.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.server.close(() => r()))));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
