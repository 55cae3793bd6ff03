import { describe, expect, it } from 'vitest';
import { startRegistry } from '../helpers/registry.js';

describe('test registry helper', () => {
  it('starts docker-registry without auth, answers /v2/, and cleans up on stop', async () => {
    const reg = await startRegistry();
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(200);
    await reg.stop();
    await expect(fetch(`${reg.url}/v2/`)).rejects.toThrow();
  });

  it('htpasswd mode asks for Basic credentials', async () => {
    const reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'pw-alice' } });
    try {
      const res = await fetch(`${reg.url}/v2/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      const ok = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Basic ${Buffer.from('alice:pw-alice').toString('base64')}` } });
      expect(ok.status).toBe(200);
    } finally {
      await reg.stop();
    }
  });

  it('token mode: the registry accepts a JWT from the test token server', async () => {
    const reg = await startRegistry({ auth: 'token', users: { bob: 'pw-bob' } });
    try {
      const res = await fetch(`${reg.url}/v2/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain(`realm="${reg.tokenRealm}"`);
      const t = await fetch(`${reg.tokenRealm}?service=relsign-test-registry&scope=repository:x:pull`, {
        headers: { authorization: `Basic ${Buffer.from('bob:pw-bob').toString('base64')}` },
      });
      const { token } = (await t.json()) as { token: string };
      const ok = await fetch(`${reg.url}/v2/x/tags/list`, { headers: { authorization: `Bearer ${token}` } });
      // 404 NAME_UNKNOWN means the token was accepted (a refused one is 401).
      expect(ok.status).toBe(404);
    } finally {
      await reg.stop();
    }
  });
});
