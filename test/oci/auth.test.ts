import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { dockerConfigCredentials, insecureHosts, type Credential } from '../../src/oci/credentials.js';
import { OCI_CONFIG, OCI_MANIFEST } from '../../src/oci/types.js';
import { sha256, startRegistry, type TestRegistry } from '../helpers/registry.js';

const fixed = (c: Credential | undefined) => async () => c;

async function roundTrip(client: RegistryClient, registry: string, repository: string): Promise<void> {
  const repo = { registry, repository };
  const config = Buffer.from('{}');
  await client.pushBlob(repo, { digest: sha256(config), size: config.length }, () => config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: 2 }, layers: [] }),
  );
  const { digest } = await client.putManifest(repo, 'latest', manifest, OCI_MANIFEST);
  expect((await client.getManifest(repo, 'latest'))?.descriptor.digest).toBe(digest);
  expect(await client.listTags(repo)).toEqual(['latest']);
}

describe('Basic auth (htpasswd registry)', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'alice-Secret-pw' } });
  });
  afterAll(async () => reg?.stop());

  it('pushes and pulls with the right password', async () => {
    await roundTrip(new RegistryClient({ credentials: fixed({ username: 'alice', password: 'alice-Secret-pw' }) }), reg.host, 'basic/app');
  });

  it('a wrong password is a one-line error naming the registry and user, never the password', async () => {
    const client = new RegistryClient({ credentials: fixed({ username: 'alice', password: 'WRONG-pw-123' }) });
    const err = (await client.headBlob({ registry: reg.host, repository: 'basic/app' }, sha256('x')).catch((e) => e)) as Error;
    expect(err.message).toBe(`registry ${reg.host}: authentication failed (401) for user alice`);
    expect(err.message).not.toContain('WRONG');
  });

  it('no credentials at all says so', async () => {
    const err = (await new RegistryClient({ credentials: fixed(undefined) }).listTags({ registry: reg.host, repository: 'basic/app' }).catch((e) => e)) as Error;
    expect(err.message).toBe(`registry ${reg.host}: authentication failed (401) for anonymous (no credentials found)`);
  });
});

describe('Bearer token flow (token-auth registry)', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token', users: { bob: 'bob-Secret-pw' }, refreshTokens: { 'refresh-abc-123': 'bob' } });
  });
  afterAll(async () => reg?.stop());

  it('gets a token from the realm with Basic credentials, for push and pull scopes, and caches it', async () => {
    reg.tokenRequests.length = 0;
    await roundTrip(new RegistryClient({ credentials: fixed({ username: 'bob', password: 'bob-Secret-pw' }) }), reg.host, 'bearer/app');
    expect(reg.tokenRequests.every((r) => r.user === 'bob' && r.service === 'relsign-test-registry')).toBe(true);
    const scopes = reg.tokenRequests.map((r) => r.scopes.join(' '));
    expect(scopes).toContain('repository:bearer/app:pull,push');
    expect(scopes).toContain('repository:bearer/app:pull');
    // one token per scope set, reused across requests
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  it('deletes a manifest with a delete-scoped token', async () => {
    const client = new RegistryClient({ credentials: fixed({ username: 'bob', password: 'bob-Secret-pw' }) });
    await roundTrip(client, reg.host, 'bearer/del');
    const repo = { registry: reg.host, repository: 'bearer/del' };
    const digest = (await client.headManifest(repo, 'latest'))!.digest;
    reg.tokenRequests.length = 0;
    await client.deleteManifest(repo, digest);
    expect(reg.tokenRequests.map((r) => r.scopes.join(' '))).toEqual(['repository:bearer/del:delete']);
    expect(await client.headManifest(repo, 'latest')).toBeUndefined();
  });

  it('asks pull on the mount source along with push on the target', async () => {
    const client = new RegistryClient({ credentials: fixed({ username: 'bob', password: 'bob-Secret-pw' }) });
    const data = Buffer.from('mounted via token');
    const desc = { digest: sha256(data), size: data.length };
    await client.pushBlob({ registry: reg.host, repository: 'bearer/src' }, desc, () => data);
    reg.tokenRequests.length = 0;
    expect(await client.pushBlob({ registry: reg.host, repository: 'bearer/dst' }, desc, () => data, { mountFrom: 'bearer/src' })).toBe('mounted');
    expect(reg.tokenRequests.map((r) => r.scopes.sort().join(' '))).toContain('repository:bearer/dst:pull,push repository:bearer/src:pull');
  });

  it('exchanges an identity token (refresh token) at the realm', async () => {
    reg.tokenRequests.length = 0;
    await roundTrip(new RegistryClient({ credentials: fixed({ username: '', password: '', identityToken: 'refresh-abc-123' }) }), reg.host, 'bearer/idtoken');
    expect(reg.tokenRequests.length).toBeGreaterThan(0);
    expect(reg.tokenRequests.every((r) => r.method === 'POST' && r.grantType === 'refresh_token' && r.user === 'bob')).toBe(true);
  });

  it('a 401 in the middle of a chunked upload (token expired) restarts the upload with a fresh token', async () => {
    const { startProxy } = await import('../helpers/http-proxy.js');
    let patches = 0;
    const proxy = await startProxy(reg.host, {
      intercept: (req) =>
        req.method === 'PATCH' && ++patches === 2
          ? { status: 401, headers: { 'www-authenticate': `Bearer realm="${reg.tokenRealm}",service="relsign-test-registry",scope="repository:bearer/expiry:pull,push"` } }
          : undefined,
    });
    try {
      const client = new RegistryClient({ credentials: fixed({ username: 'bob', password: 'bob-Secret-pw' }), backoff: { baseMs: 1, maxMs: 5 } });
      const data = Buffer.from('0123456789'.repeat(300));
      let opened = 0;
      const { Readable } = await import('node:stream');
      const result = await client.pushBlob({ registry: proxy.host, repository: 'bearer/expiry' }, { digest: sha256(data), size: data.length }, () => (opened++, Readable.from([data])), {
        chunkSize: 1000,
      });
      expect(result).toBe('uploaded');
      expect(opened).toBe(2);
      expect(await client.headBlob({ registry: proxy.host, repository: 'bearer/expiry' }, sha256(data))).toBe(data.length);
    } finally {
      await proxy.stop();
    }
  });

  it('a wrong password is refused by the token service: one line naming registry and user', async () => {
    const client = new RegistryClient({ credentials: fixed({ username: 'bob', password: 'nope-nope' }) });
    const err = (await client.listTags({ registry: reg.host, repository: 'bearer/app' }).catch((e) => e)) as Error;
    expect(err.message).toBe(`registry ${reg.host}: authentication failed (401) for user bob at token service ${new URL(reg.tokenRealm!).host}`);
    expect(err.message).not.toContain('nope-nope');
  });

  it('an anonymous token without push rights ends in a 401 error, not a loop', async () => {
    const client = new RegistryClient({ credentials: fixed(undefined) });
    const err = (await client.pushBlob({ registry: reg.host, repository: 'bearer/anon' }, { digest: sha256('a'), size: 1 }, () => Buffer.from('a')).catch((e) => e)) as Error;
    expect(err.message).toBe(`registry ${reg.host}: authentication failed (401) for anonymous (no credentials found)`);
  });
});

describe('docker config credentials', () => {
  let reg: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd', users: { carol: 'carol-Secret-pw', dave: 'dave-Secret-pw' } });
    dir = await mkdtemp(join(tmpdir(), 'relsign-dockercfg-'));
  });
  afterAll(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads auths (base64 user:pass) from $DOCKER_CONFIG/config.json, keyed as http://host/v1/', async () => {
    const cfg = join(dir, 'auths');
    await writeFile(join(await mkdir(cfg), 'config.json'), JSON.stringify({ auths: { [`http://${reg.host}/v1/`]: { auth: Buffer.from('carol:carol-Secret-pw').toString('base64') } } }));
    const credentials = dockerConfigCredentials({ env: { DOCKER_CONFIG: cfg, PATH: process.env.PATH } });
    expect(await credentials(reg.host)).toEqual({ username: 'carol', password: 'carol-Secret-pw' });
    await roundTrip(new RegistryClient({ credentials }), reg.host, 'cfg/auths');
  });

  it('runs the credHelpers helper for the host (docker-credential-relsigntest on PATH)', async () => {
    const cfg = join(dir, 'helpers');
    const bin = join(dir, 'bin');
    await mkdir(cfg);
    await mkdir(bin);
    const log = join(dir, 'helper-stdin.txt');
    const script = `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
printf '%s' "$server" > '${log}'
case "$server" in
  ${reg.host}) printf '{"ServerURL":"%s","Username":"dave","Secret":"dave-Secret-pw"}' "$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
    await writeFile(join(bin, 'docker-credential-relsigntest'), script);
    await chmod(join(bin, 'docker-credential-relsigntest'), 0o755);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'relsigntest', 'other.example': 'relsigntest' } }));
    const env = { DOCKER_CONFIG: cfg, PATH: `${bin}:${process.env.PATH}` };
    const credentials = dockerConfigCredentials({ env });
    await roundTrip(new RegistryClient({ credentials }), reg.host, 'cfg/helper');
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(log, 'utf8')).toBe(reg.host);
    expect(await credentials('other.example')).toBeUndefined();
  });

  it('insecureHosts lists the hosts marked insecure, normalized', () => {
    expect(insecureHosts([{ host: 'https://Reg.Internal:5000/v2/', insecure: true }, { host: 'ghcr.io' }, { host: 'r2', insecure: false }])).toEqual(['reg.internal:5000']);
  });

  it('relsign logins come before the docker config; docker.io matches https://index.docker.io/v1/', async () => {
    const cfg = join(dir, 'hub');
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hubpw').toString('base64') }, 'ghcr.io': { identitytoken: 'idtok' } } }));
    const credentials = dockerConfigCredentials({ env: { DOCKER_CONFIG: cfg }, logins: [{ host: 'https://ghcr.io', username: 'me', password: 'pat' }] });
    expect(await credentials('docker.io')).toEqual({ username: 'hubuser', password: 'hubpw' });
    expect(await credentials('index.docker.io')).toEqual({ username: 'hubuser', password: 'hubpw' });
    expect(await credentials('ghcr.io')).toEqual({ username: 'me', password: 'pat' });
    const noLogin = dockerConfigCredentials({ env: { DOCKER_CONFIG: cfg } });
    expect(await noLogin('ghcr.io')).toEqual({ username: '', password: '', identityToken: 'idtok' });
    expect(await noLogin('quay.io')).toBeUndefined();
  });

  it('a broken config or a missing helper is a one-line error naming the file or helper', async () => {
    const cfg = join(dir, 'broken');
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), '{ "auths": ');
    await expect(dockerConfigCredentials({ env: { DOCKER_CONFIG: cfg } })('x.io')).rejects.toThrow(new RegExp(`^${join(cfg, 'config.json')}: invalid JSON`));
    const cfg2 = join(dir, 'nohelper');
    await mkdir(cfg2);
    await writeFile(join(cfg2, 'config.json'), JSON.stringify({ credsStore: 'relsign-absent' }));
    await expect(dockerConfigCredentials({ env: { DOCKER_CONFIG: cfg2, PATH: dir } })('x.io')).rejects.toThrow(
      'credential helper docker-credential-relsign-absent: cannot run it (not found on PATH)',
    );
  });
});

async function mkdir(p: string): Promise<string> {
  const { mkdir: mk } = await import('node:fs/promises');
  await mk(p, { recursive: true });
  return p;
}
