/**
 * Keyless releases: the manifest's bundle and each archive's bundle are made
 * by the official signing library (@sigstore/sign) against the mock Fulcio and
 * Rekor on loopback (test/helpers/sigstore-services.ts); verify-release checks
 * them against a trusted root built from the mock's keys and the identity
 * policy. A wrong identity fails with one line naming the manifest.
 */
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, MessageSignatureBundleBuilder, RekorWitness } from '@sigstore/sign';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { ARCHIVES, MANIFEST, manifestFor, tempDir } from './fixture.js';

let s: SigstoreServices;
let root: string;
let dir: string;
beforeAll(async () => {
  s = await startSigstoreServices();
  root = await tempDir();
  dir = join(root, 'release');
  await mkdir(dir);
  const signer = () => new FulcioSigner({ fulcioBaseURL: s.fulcioURL, identityProvider: { getToken: async () => s.makeIdToken() } });
  const witnesses = () => [new RekorWitness({ rekorBaseURL: s.rekorURL })];
  for (const name of ARCHIVES) {
    const data = Buffer.from(`keyless ${name}\n`);
    await writeFile(join(dir, name), data);
    const b = await new MessageSignatureBundleBuilder({ signer: signer(), witnesses: witnesses() }).create({ data });
    await writeFile(join(dir, `${name}.sigstore.json`), JSON.stringify(bundleToJSON(b)));
  }
  const bytes = await manifestFor(dir, { signer: { kind: 'keyless', identity: DEFAULT_IDENTITY, issuer: DEFAULT_ISSUER } });
  await writeFile(join(dir, MANIFEST), bytes);
  const b = await new DSSEBundleBuilder({ signer: signer(), witnesses: witnesses() }).create({ data: bytes, type: 'application/vnd.in-toto+json' });
  await writeFile(join(dir, `${MANIFEST}.sigstore.json`), JSON.stringify(bundleToJSON(b)));
}, 60_000);
afterAll(async () => {
  await s?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const verify = (extra: string[]) => runCli(['verify-release', '--trusted-root', s.trustedRootPath, ...extra, dir]);

describe('verify-release, keyless', () => {
  it('passes with the signing identity and issuer; the log entries are checked', async () => {
    const r = await verify(['--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', DEFAULT_ISSUER]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`verdict: OK: 8 assets verified against the manifest ${MANIFEST} signed by ${DEFAULT_IDENTITY}`);
    for (const a of ARCHIVES) expect(r.stdout).toMatch(new RegExp(`^${a.replaceAll('.', '\\.')}\\s+[0-9a-f]{12}\\s+ok\\s+manifest, ${a.replaceAll('.', '\\.')}\\.sigstore\\.json\\s+${DEFAULT_IDENTITY.replaceAll('.', '\\.')}$`, 'm'));
    const re = await verify(['--certificate-identity-regexp', '^https://github\\.com/octo-org/', '--certificate-oidc-issuer-regexp', '^https://token\\.actions\\.']);
    expect(re.code, re.stdout).toBe(0);
  });

  it('a wrong identity fails, naming the manifest and each bundle', async () => {
    const r = await verify(['--certificate-identity', 'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main', '--certificate-oidc-issuer', DEFAULT_ISSUER]);
    expect(r.code).toBe(1);
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('FAILED '));
    expect(failed[0]).toMatch(new RegExp(`^FAILED ${MANIFEST.replaceAll('.', '\\.')}: ${MANIFEST.replaceAll('.', '\\.')}\\.sigstore\\.json: .*${DEFAULT_IDENTITY.replaceAll('.', '\\.').replaceAll('/', '\\/')}`));
    for (const a of ARCHIVES) expect(failed.some((l) => l.startsWith(`FAILED ${a}: ${a}.sigstore.json: `))).toBe(true);
    expect(failed).toHaveLength(4);
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
  });

  it('a wrong issuer fails too', async () => {
    const r = await verify(['--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', 'https://gitlab.com']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^FAILED ${MANIFEST.replaceAll('.', '\\.')}: `, 'm'));
  });

  it('--key on a keyless release says to use the identity flags', async () => {
    const pub = join(root, 'other.pub');
    const { Signer } = await import('../../src/sigstore/signer.js');
    await writeFile(pub, Signer.generate().publicKeyPem);
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAILED ${MANIFEST}: ${MANIFEST}.sigstore.json: signed with a certificate (keyless), not with other.pub; verify with --certificate-identity … --certificate-oidc-issuer …`);
  });

  it('the manifest names the identity that signed it (predicate.signer)', async () => {
    const m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8'));
    expect(m.predicate.signer).toEqual({ kind: 'keyless', identity: DEFAULT_IDENTITY, issuer: DEFAULT_ISSUER });
  });
});
