import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealedBox, storeActionsSecrets } from '../../src/github/secrets.js';
import { FakeGitHub } from './fake-github.js';
import { sodium } from './helpers.js';

describe('sealedBox', () => {
  it('opens with libsodium crypto_box_seal_open', async () => {
    const s = await sodium();
    const kp = s.crypto_box_keypair();
    for (const msg of ['', 'p', 'correct horse battery staple', 'x'.repeat(10_000)]) {
      const sealed = sealedBox(msg, kp.publicKey);
      expect(sealed.length).toBe(msg.length + 48); // epk 32 + tag 16
      expect(s.to_string(s.crypto_box_seal_open(sealed, kp.publicKey, kp.privateKey))).toBe(msg);
    }
  });

  it('is randomized, and tampering or the wrong key fails to open', async () => {
    const s = await sodium();
    const kp = s.crypto_box_keypair();
    const other = s.crypto_box_keypair();
    const a = sealedBox('secret', kp.publicKey);
    const b = sealedBox('secret', kp.publicKey);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const tampered = Uint8Array.from(a);
    tampered[40]! ^= 1;
    expect(() => s.crypto_box_seal_open(tampered, kp.publicKey, kp.privateKey)).toThrow();
    expect(() => s.crypto_box_seal_open(a, other.publicKey, other.privateKey)).toThrow();
  });
});

describe('storeActionsSecrets', () => {
  let fake: FakeGitHub;
  beforeEach(async () => {
    fake = await new FakeGitHub().start();
  });
  afterEach(async () => {
    expect(fake.violations).toEqual([]);
    await fake.close();
  });

  it('GETs the repo public key and PUTs each sealed secret with its key_id', async () => {
    const s = await sodium();
    const secrets = {
      COSIGN_PASSWORD: 'hunter2',
      COSIGN_PRIVATE_KEY: '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
      COSIGN_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nxyz\n-----END PUBLIC KEY-----\n',
    };
    const stored = await storeActionsSecrets({ owner: 'acme', repo: 'widget', token: fake.token, apiUrl: fake.apiUrl, secrets });
    expect(stored).toEqual(['COSIGN_PASSWORD', 'COSIGN_PRIVATE_KEY', 'COSIGN_PUBLIC_KEY']);
    for (const [name, value] of Object.entries(secrets)) {
      const rec = fake.secrets.get(name)!;
      expect(rec.key_id).toBe(fake.actionsKeyId);
      const opened = s.crypto_box_seal_open(
        s.from_base64(rec.encrypted_value, s.base64_variants.ORIGINAL),
        fake.actionsKey.publicKey,
        fake.actionsKey.secretKey,
      );
      expect(s.to_string(opened)).toBe(value);
    }
    const seq = fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(seq).toEqual([
      'GET /api/v3/repos/acme/widget/actions/secrets/public-key',
      'PUT /api/v3/repos/acme/widget/actions/secrets/COSIGN_PASSWORD',
      'PUT /api/v3/repos/acme/widget/actions/secrets/COSIGN_PRIVATE_KEY',
      'PUT /api/v3/repos/acme/widget/actions/secrets/COSIGN_PUBLIC_KEY',
    ]);
  });

  it('reports a missing repository or token as one line', async () => {
    await expect(
      storeActionsSecrets({ owner: 'acme', repo: 'nope', token: fake.token, apiUrl: fake.apiUrl, secrets: { COSIGN_PASSWORD: 'x' } }),
    ).rejects.toThrow(/cannot read the Actions public key of acme\/nope: HTTP 404/);
    await expect(
      storeActionsSecrets({ owner: 'acme', repo: 'widget', token: '', apiUrl: fake.apiUrl, secrets: {} }),
    ).rejects.toThrow(/missing GITHUB_TOKEN/);
  });
});
