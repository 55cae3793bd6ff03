/**
 * Hostile inputs to verify-release: each is one line naming what is wrong,
 * found without reading more than the limits allow (loose bounds: well under
 * a few seconds), and nothing is followed outside the folder.
 */
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../src/sigstore/signer.js';
import { parseManifest, MAX_SUBJECTS } from '../../src/verify-release/manifest.js';
import { parseChecksums } from '../../src/verify-release/checksums.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { CHECKSUMS, MANIFEST, keyBundle, sha256, signedRelease } from './fixture.js';

let signer: Signer;
beforeAll(() => {
  signer = Signer.generate();
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function release() {
  const r = await signedRelease(signer);
  cleanups.push(r.cleanup);
  return r;
}

/** Replaces the manifest with `bytes`, signed (so only the content check can fail). */
async function resign(dir: string, bytes: Buffer): Promise<void> {
  await writeFile(join(dir, MANIFEST), bytes);
  await writeFile(join(dir, `${MANIFEST}.sigstore.json`), await keyBundle(signer, bytes));
}

const failedLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('FAILED '));
const statement = (subject: unknown[], assets: unknown[] = subject) =>
  Buffer.from(
    `${JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject,
      predicateType: 'https://relsign.dev/release-manifest/v1',
      predicate: { project: 'p', repository: '', tag: 'v1', version: '1', commit: 'c', assets, images: [], signer: { kind: 'key', publicKeySha256: '0'.repeat(64) } },
    })}\n`,
  );

describe('hostile manifests', () => {
  it('100k subjects in a 9 MB manifest: refused by size, unread', async () => {
    const { dir, pub } = await release();
    const subjects = Array.from({ length: 100_000 }, (_, i) => ({ name: `a${i}`, digest: { sha256: sha256(String(i)) } }));
    await resign(dir, statement(subjects));
    const t0 = Date.now();
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)[0]).toMatch(new RegExp(`^FAILED ${MANIFEST.replaceAll('.', '\\.')}: is \\d+ bytes; a manifest may be at most 4194304 bytes \\(4 MiB\\)$`));
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
  }, 30_000);

  it('100k subjects under 4 MiB: refused by count before any is looked at', () => {
    const bytes = statement(Array.from({ length: 100_000 }, () => ({})), []);
    expect(bytes.length).toBeLessThan(4 * 1024 * 1024);
    const t0 = performance.now();
    expect(() => parseManifest(bytes, 'm.json')).toThrow(`manifest m.json: subject has 100000 entries; at most ${MAX_SUBJECTS} are allowed`);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('invalid JSON', async () => {
    const { dir, pub } = await release();
    await resign(dir, Buffer.from('{"_type": "https://in-toto.io/Statement/v1", "subject": [\n'));
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^FAILED ${MANIFEST.replaceAll('.', '\\.')}: is not valid JSON \\(.+\\)$`)));
  });

  it('subject names that are paths, duplicates, bad digests, mismatched assets', () => {
    const d = sha256('x');
    const asset = (name: string, sha = d) => ({ name, size: 1, sha256: sha, type: 'file', signatures: [] });
    const cases: Array<[Buffer, string]> = [
      [statement([{ name: '../x', digest: { sha256: d } }], [asset('../x')]), 'manifest m.json: subject[0].name: name "../x" must not contain a path separator (/ or \\)'],
      [statement([{ name: '.hidden', digest: { sha256: d } }], [asset('.hidden')]), 'manifest m.json: subject[0].name: name ".hidden" must not start with "."'],
      [statement([{ name: 'a\nb', digest: { sha256: d } }], [asset('a\nb')]), 'manifest m.json: subject[0].name: name "a\\nb" contains a control character'],
      [statement([{ name: 'a', digest: { sha256: d } }, { name: 'a', digest: { sha256: d } }], [asset('a'), asset('a')]), 'manifest m.json: subject[1].name "a" is listed twice'],
      [statement([{ name: 'a', digest: { sha256: d.toUpperCase() } }], [asset('a')]), 'manifest m.json: subject[0].digest.sha256'],
      [statement([{ name: 'a', digest: { sha256: d } }], [asset('b')]), 'manifest m.json: predicate.assets[0].name must be "a", as subject[0]'],
      [statement([{ name: 'a', digest: { sha256: d } }], []), 'manifest m.json: predicate.assets has 0 entries, subject has 1'],
      [
        statement([{ name: 'a', digest: { sha256: d } }], [{ ...asset('a'), signatures: ['a.sig'] }]),
        'manifest m.json: predicate.assets[0].signatures[0] names "a.sig", which is not a subject',
      ],
      [Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}'), 'manifest m.json: _type must be https://in-toto.io/Statement/v1'],
      [Buffer.from('[]'), 'manifest m.json: must be a JSON object'],
    ];
    for (const [bytes, message] of cases) {
      let thrown: unknown;
      try {
        parseManifest(bytes, 'm.json');
      } catch (err) {
        thrown = err;
      }
      expect(thrown, message).toBeInstanceOf(Error);
      expect((thrown as Error).message.startsWith(message), `${(thrown as Error).message} / ${message}`).toBe(true);
      expect((thrown as Error).message).not.toContain('\n');
    }
  });

  it('a manifest signed correctly but listing ../x: the manifest fails, nothing is read outside', async () => {
    const { dir, pub } = await release();
    const m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8'));
    m.subject[0].name = '../../etc/passwd';
    m.predicate.assets[0].name = '../../etc/passwd';
    await resign(dir, Buffer.from(`${JSON.stringify(m, null, 2)}\n`));
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)[0]).toBe(`FAILED ${MANIFEST}: subject[0].name: name "../../etc/passwd" must not contain a path separator (/ or \\)`);
  });
});

describe('hostile folders and checksums', () => {
  it('a file over 2 GiB (sparse) is refused unread; a name with a newline is refused and shown escaped', async () => {
    const { dir, pub } = await release();
    const fh = await open(join(dir, 'huge.bin'), 'w');
    await fh.truncate(2 * 1024 ** 3 + 1);
    await fh.close();
    await writeFile(join(dir, 'bad\nname'), 'x');
    const t0 = Date.now();
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.code).toBe(1);
    const failed = failedLines(r.stdout);
    expect(failed).toContain('FAILED huge.bin: is 2147483649 bytes; release assets are at most 2 GiB');
    expect(failed).toContain('FAILED "bad\\nname": the name "bad\\nname" contains a control character (a newline, tab, ...); artifact names must be plain file names; not read');
    expect(r.stdout).not.toMatch(/^name/m);
  });

  it('a malformed checksums file is one line naming it and the line', async () => {
    const { dir, pub } = await release();
    await writeFile(join(dir, CHECKSUMS), `${'a'.repeat(64)}  x\nnot a checksum line\n`);
    const report = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(failedLines(report.stdout)).toContain(`FAILED ${CHECKSUMS}: line 2 is not "<sha256>  <name>"`);
    expect(() => parseChecksums('\n'.repeat(30_000), 'c.txt')).toThrow('c.txt: more than 20000 lines');
    expect(() => parseChecksums(`${'a'.repeat(64)}  x\n${'b'.repeat(64)}  x\n`, 'c.txt')).toThrow('c.txt: line 2 lists "x" again with another digest');
  });
});
