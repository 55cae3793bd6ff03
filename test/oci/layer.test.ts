import { mkdtemp, readFile, rm, stat, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLayer } from '../../src/oci/build/layer.js';
import { completeEntries, layerPath, tarStream, type TarEntry } from '../../src/oci/build/tar.js';
import { REPO_ROOT } from '../helpers/cli.js';

/**
 * Layers must be byte-identical for the same inputs whatever the clock,
 * time zone, umask and the files' own mtimes/modes on disk.
 */
const COMMIT_DATE = new Date('2024-01-02T03:04:05Z');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relsign-layer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function makeInputs(sub: string, mtime: Date, mode: number): Promise<TarEntry[]> {
  const bin = join(dir, `${sub}-app`);
  const conf = join(dir, `${sub}-conf`);
  await writeFile(bin, Buffer.alloc(300_000, 7));
  await writeFile(conf, 'key: value\n');
  await chmod(bin, mode);
  await chmod(conf, mode);
  await utimes(bin, mtime, mtime);
  await utimes(conf, mtime, mtime);
  const long = `/opt/${'deep/'.repeat(30)}${'n'.repeat(120)}.txt`;
  return [
    { path: layerPath('/usr/local/bin/app', 'test'), type: 'file', mode: 0o755, src: bin, size: (await stat(bin)).size },
    { path: layerPath('/etc/app/config.yaml', 'test'), type: 'file', mode: 0o644, src: conf, size: (await stat(conf)).size },
    { path: layerPath(long, 'test'), type: 'file', mode: 0o600, src: conf, size: (await stat(conf)).size },
  ];
}

/** Runs writeLayer (compiled, lib/) in a child with its own clock, time zone and umask. */
async function layerInChild(entries: TarEntry[], out: string, fakeNow: string, tz: string, umask: number): Promise<Record<string, unknown>> {
  const script = `
    const RealDate = Date;
    const fixed = new RealDate(${JSON.stringify(fakeNow)}).getTime();
    globalThis.Date = class extends RealDate { constructor(...a) { super(...(a.length ? a : [fixed])); } static now() { return fixed; } };
    process.umask(${umask});
    const { writeLayer } = await import(${JSON.stringify(join(REPO_ROOT, 'lib/oci/build/layer.js'))});
    const entries = JSON.parse(process.argv[1]);
    const r = await writeLayer(entries, new RealDate(${JSON.stringify(COMMIT_DATE.toISOString())}), process.argv[2]);
    console.log(JSON.stringify(r));`;
  const r = await execa(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(entries), out], { env: { TZ: tz } });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('reproducible layers', () => {
  it('different clocks, time zones, umasks and file mtimes/modes give byte-identical layers', async () => {
    const a = await makeInputs('a', new Date('2001-01-01T00:00:00Z'), 0o700);
    const b = await makeInputs('b', new Date('2030-06-15T12:00:00Z'), 0o777);
    const ra = await layerInChild(a, join(dir, 'a.tar.gz'), '1999-12-31T23:59:59Z', 'Pacific/Kiritimati', 0o077);
    const rb = await layerInChild(b, join(dir, 'b.tar.gz'), '2077-07-07T07:07:07Z', 'America/St_Johns', 0o000);
    expect(ra).toEqual(rb);
    const bytesA = await readFile(join(dir, 'a.tar.gz'));
    expect(bytesA.equals(await readFile(join(dir, 'b.tar.gz')))).toBe(true);
    // The digests are what they claim to be.
    const sha = (await execa('sha256sum', [join(dir, 'a.tar.gz')])).stdout.split(' ')[0];
    expect(ra.digest).toBe(`sha256:${sha}`);
    const diff = (await execa('sh', ['-c', `gzip -dc ${join(dir, 'a.tar.gz')} | sha256sum`])).stdout.split(' ')[0];
    expect(ra.diffId).toBe(`sha256:${diff}`);
    expect(ra.size).toBe(bytesA.length);
    // gzip header: no name flag, mtime 0, OS byte 255.
    expect([...bytesA.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  });

  it('tar -tvzf lists parents first, uid/gid 0, fixed modes, the commit date', async () => {
    const entries = await makeInputs('c', new Date('2010-01-01T00:00:00Z'), 0o640);
    const out = join(dir, 'c.tar.gz');
    await writeLayer(entries, COMMIT_DATE, out);
    const r = await execa('tar', ['--numeric-owner', '--full-time', '-tvzf', out], { env: { TZ: 'UTC' } });
    const lines = r.stdout.split('\n');
    const names = lines.map((l) => l.split(/\s+/).slice(5).join(' '));
    expect(names.slice(0, 6)).toEqual(['etc/', 'etc/app/', 'etc/app/config.yaml', 'opt/', 'opt/deep/', 'opt/deep/deep/']);
    expect(names).toContain('usr/local/bin/app');
    expect(names.some((n) => n.endsWith(`${'n'.repeat(120)}.txt`) && n.startsWith('opt/deep/'))).toBe(true);
    for (const l of lines) {
      const [perm, owner, , date, time] = l.split(/\s+/);
      expect(owner).toBe('0/0');
      expect(`${date} ${time}`).toBe('2024-01-02 03:04:05');
      expect(perm).toMatch(/^(drwxr-xr-x|-rwxr-xr-x|-rw-r--r--|-rw-------)$/);
    }
    expect(lines.find((l) => l.endsWith('usr/local/bin/app'))).toMatch(/^-rwxr-xr-x 0\/0 +300000 /);
    // No user or group names, no pax time records.
    const named = await execa('tar', ['-tvzf', out]);
    for (const l of named.stdout.split('\n')) expect(l.split(/\s+/)[1]).toBe('0/0');
    const raw = (await execa('sh', ['-c', `gzip -dc ${out} | strings`])).stdout;
    expect(raw).not.toMatch(/atime|ctime|mtime=/);
  });

  it('parent folders are added, duplicates and file/folder clashes are refused', () => {
    const e = completeEntries([{ path: 'a/b/c', type: 'file', mode: 0o644, src: '/dev/null', size: 0 }]);
    expect(e.map((x) => `${x.type}:${x.path}`)).toEqual(['dir:a', 'dir:a/b', 'file:a/b/c']);
    expect(() => completeEntries([
      { path: 'a', type: 'file', mode: 0o644, src: '/dev/null', size: 0 },
      { path: 'a/b', type: 'file', mode: 0o644, src: '/dev/null', size: 0 },
    ])).toThrow('/a is a file in the layer but /a/b needs it as a folder');
    expect(() => completeEntries([
      { path: 'a', type: 'file', mode: 0o644, src: '/dev/null', size: 0 },
      { path: 'a', type: 'file', mode: 0o644, src: '/dev/null', size: 0 },
    ])).toThrow('two entries for /a');
  });

  it('layer paths: absolute in the image, no "..", bounded', () => {
    expect(layerPath('/usr//local/./bin/x', 'w')).toBe('usr/local/bin/x');
    expect(() => layerPath('usr/x', 'images[0].files[0].dst')).toThrow('images[0].files[0].dst: "usr/x" must be an absolute path');
    expect(() => layerPath('/a/../../etc/passwd', 'w')).toThrow('contains ".."');
    expect(() => layerPath('/', 'w')).toThrow('names the image root');
    expect(() => layerPath('/' + 'a'.repeat(10_000), 'w')).toThrow('longer than 4096');
  });

  it('a file that changes size while being written is an error, and no layer is left', async () => {
    const src = join(dir, 'changing');
    await writeFile(src, 'short');
    const out = join(dir, 'changing.tar.gz');
    await expect(writeLayer([{ path: 'x', type: 'file', mode: 0o644, src, size: 100 }], COMMIT_DATE, out)).rejects.toThrow('shrank');
    await expect(stat(out)).rejects.toThrow();
  });

  it('streams: tarStream yields file content in chunks, not whole', async () => {
    const src = join(dir, 'big');
    await writeFile(src, Buffer.alloc(5 << 20, 1));
    let max = 0;
    for await (const chunk of tarStream([{ path: 'big', type: 'file', mode: 0o644, src, size: 5 << 20 }], COMMIT_DATE)) max = Math.max(max, chunk.length);
    expect(max).toBeLessThanOrEqual(1 << 20);
  });
});
