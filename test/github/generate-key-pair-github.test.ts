import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptPrivateKeyPem, publicKeyPem } from '../../src/sigstore/index.js';
import { runCli } from '../helpers/cli.js';
import { FakeGitHub } from './fake-github.js';
import { sodium } from './helpers.js';

describe('relsign generate-key-pair github://OWNER/REPO', () => {
  let fake: FakeGitHub;
  let dir: string;
  beforeEach(async () => {
    fake = await new FakeGitHub().start();
    dir = await mkdtemp(join(tmpdir(), 'relsign-gkp-'));
  });
  afterEach(async () => {
    expect(fake.violations).toEqual([]);
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the three cosign secrets (opened with libsodium) and writes only cosign.pub', async () => {
    const r = await runCli(['generate-key-pair', 'github://acme/widget'], {
      cwd: dir,
      env: { GITHUB_TOKEN: fake.token, GITHUB_API_URL: fake.apiUrl, COSIGN_PASSWORD: 'pw-stored-in-github' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toContain('pw-stored-in-github');
    expect(await readdir(dir)).toEqual(['cosign.pub']);
    const s = await sodium();
    const open = (name: string) =>
      s.to_string(
        s.crypto_box_seal_open(s.from_base64(fake.secrets.get(name)!.encrypted_value, s.base64_variants.ORIGINAL), fake.actionsKey.publicKey, fake.actionsKey.secretKey),
      );
    expect(open('COSIGN_PASSWORD')).toBe('pw-stored-in-github');
    const pub = await readFile(join(dir, 'cosign.pub'), 'utf8');
    expect(open('COSIGN_PUBLIC_KEY')).toBe(pub);
    // the stored private key decrypts with the stored password to the written public key
    const key = await decryptPrivateKeyPem(open('COSIGN_PRIVATE_KEY'), 'pw-stored-in-github');
    expect(publicKeyPem(key)).toBe(pub);
  });

  it.each([
    [['generate-key-pair', 'github://acme'], { GITHUB_TOKEN: 'x' }, 2, /expected github:\/\/OWNER\/REPO/],
    [['generate-key-pair', 'github://acme/widget'], { GITHUB_TOKEN: '' }, 1, /missing GITHUB_TOKEN/],
  ])('%j fails clearly', async (args, env, code, message) => {
    const r = await runCli(args, { cwd: dir, env: { ...env, COSIGN_PASSWORD: 'x', GITHUB_API_URL: fake.apiUrl } });
    expect(r.code).toBe(code);
    expect(r.stderr.trim()).toMatch(message);
    expect(await readdir(dir)).toEqual([]);
  });
});
