import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAsset } from '../../src/github/releases.js';
import { Signer } from '../../src/sigstore/index.js';
import { verifyReleaseSignatures } from '../../src/stages/release-verify.js';
import { recordSignatureCheck, type SignatureCheck } from '../../src/stages/sign/checks.js';
import { runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

/**
 * release.verify's checks on real signatures: keyless ones made by `relsign
 * sign-blob` against the local Fulcio/Rekor, key ones by an in-process signer.
 */
let s: SigstoreServices;
let dir: string;

beforeAll(async () => {
  s = await startSigstoreServices();
  dir = await mkdtemp(join(tmpdir(), 'relsign-release-verify-'));
  await writeFile(join(dir, 'a.txt'), 'the artifact\n');
  const r = await runCli(
    ['sign-blob', '--yes', '--fulcio-url', s.fulcioURL, '--rekor-url', s.rekorURL, '--new-bundle-format', '--bundle', 'a.txt.sigstore.json',
      '--output-signature', 'a.txt.sig', '--output-certificate', 'a.txt.pem', 'a.txt'],
    { cwd: dir, env: { SIGSTORE_ID_TOKEN: s.makeIdToken(), ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined } },
  );
  expect(r.code, r.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const uploaded = (...names: string[]) => names.map((name) => ({ name }) as LocalAsset);

async function run(checks: SignatureCheck[], names: string[]) {
  const { ctx, logs } = await testContext(dir, {});
  for (const c of checks) recordSignatureCheck(ctx, c);
  const result = await verifyReleaseSignatures(ctx, uploaded(...names)).then(
    () => undefined,
    (e: Error) => e,
  );
  return { error: result, logs: logs.text };
}

function keyless(identity: string, issuer: string): SignatureCheck[] {
  const verifier = { kind: 'keyless' as const, where: 'signs[0]', identity, issuer };
  const signed = { signedName: 'a.txt', signedPath: join(dir, 'a.txt'), verifier };
  return [
    { asset: 'a.txt.sigstore.json', path: join(dir, 'a.txt.sigstore.json'), format: 'bundle', ...signed },
    { asset: 'a.txt.sig', path: join(dir, 'a.txt.sig'), format: 'signature', certificatePath: join(dir, 'a.txt.pem'), ...signed },
  ];
}

describe('verify before publishing', () => {
  it('keyless: the bundle and the .sig + .pem verify for the identity and issuer the run signed with', async () => {
    const { error, logs } = await run(keyless(DEFAULT_IDENTITY, DEFAULT_ISSUER), ['a.txt.sigstore.json', 'a.txt.sig']);
    expect(error).toBeUndefined();
    expect(logs).toMatch(/verified 2 signature\(s\) before publishing/);
  });

  it('keyless: a certificate for another identity or issuer fails, naming the asset and both identities', async () => {
    const other = await run(keyless('https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main', DEFAULT_ISSUER), ['a.txt.sigstore.json']);
    expect(other.error?.message).toMatch(
      /^release\.verify: signature check failed for a\.txt\.sigstore\.json: its certificate names ".*octo-org.*", not the signing identity ".*evil.*"; not publishing$/,
    );
    const issuer = await run(keyless(DEFAULT_IDENTITY, 'https://gitlab.com'), ['a.txt.sig']);
    expect(issuer.error?.message).toMatch(/failed for a\.txt\.sig: its certificate's OIDC issuer is "https:\/\/token\.actions\.githubusercontent\.com", not "https:\/\/gitlab\.com"/);
  });

  it('a key signature of a file changed after signing fails; every failure is logged, the error is one line; external signatures are listed, not checked', async () => {
    const signer = Signer.generate();
    await writeFile(join(dir, 'b.txt'), 'signed bytes\n');
    const sig = await signer.signFile(join(dir, 'b.txt'));
    await writeFile(join(dir, 'b.txt.sig'), sig.signature.toString('base64'));
    await writeFile(join(dir, 'c.txt.sig'), sig.signature.toString('base64')); // a signature of b.txt filed for c.txt
    await writeFile(join(dir, 'c.txt'), 'other bytes\n');
    await writeFile(join(dir, 'b.txt.asc'), 'gpg');
    const verifier = { kind: 'key' as const, where: 'signs[0]', publicKeyPem: signer.publicKeyPem };
    const checks: SignatureCheck[] = [
      { asset: 'b.txt.sig', path: join(dir, 'b.txt.sig'), format: 'signature', signedName: 'b.txt', signedPath: join(dir, 'b.txt'), verifier },
      { asset: 'c.txt.sig', path: join(dir, 'c.txt.sig'), format: 'signature', signedName: 'c.txt', signedPath: join(dir, 'c.txt'), verifier },
      {
        asset: 'b.txt.asc', path: join(dir, 'b.txt.asc'), format: 'signature', signedName: 'b.txt', signedPath: join(dir, 'b.txt'),
        verifier: { kind: 'external', where: 'signs[1]', cmd: 'gpg' },
      },
    ];
    const ok = await run(checks, ['b.txt.sig', 'b.txt.asc']);
    expect(ok.error).toBeUndefined();
    expect(ok.logs).toMatch(/1 signature\(s\) made by external signers are not verified by relsign: signs\[1\] \(gpg\)/);
    expect(ok.logs).toMatch(/verified 1 signature\(s\)/);

    const bad = await run(checks, ['b.txt.sig', 'c.txt.sig']);
    expect(bad.error?.message).toMatch(/^release\.verify: signature check failed for c\.txt\.sig: invalid signature: .*c\.txt.*; not publishing$/);
    expect(bad.error?.message).not.toContain('\n');
    expect(bad.logs).toMatch(/signature check failed: c\.txt\.sig: /);

    // Changed after signing: the same check on b.txt fails too.
    await writeFile(join(dir, 'b.txt'), 'signed bytes, then changed\n');
    const tampered = await run(checks, ['b.txt.sig']);
    expect(tampered.error?.message).toMatch(/failed for b\.txt\.sig: invalid signature/);
    expect(await readFile(join(dir, 'b.txt.sig'), 'utf8')).toBe(sig.signature.toString('base64'));
  });
});
