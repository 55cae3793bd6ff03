import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RelsignConfig } from '../../src/config/types.js';
import {
  allTargets,
  configDigest,
  loadParts,
  MAX_PART_FILE_BYTES,
  parseShard,
  PART_FORMAT,
  runnerOs,
  selectTargets,
  splitId,
} from '../../src/pipeline/split.js';
import { hashFile } from '../../src/util/fs.js';

const config = (targets: string[][]): RelsignConfig =>
  ({ builds: targets.map((t, i) => ({ id: `b${i}`, targets: t })) }) as unknown as RelsignConfig;

describe('target selection', () => {
  const cfg = config([['windows_amd64', 'linux_amd64', 'darwin_arm64'], ['linux_arm64', 'linux_amd64', 'freebsd_amd64']]);

  it('every configured target once, sorted', () => {
    expect(allTargets(cfg)).toEqual(['darwin_arm64', 'freebsd_amd64', 'linux_amd64', 'linux_arm64', 'windows_amd64']);
  });

  it('by os: the targets of the runner, named as GOOS', () => {
    expect(runnerOs('win32')).toBe('windows');
    expect(runnerOs('darwin')).toBe('darwin');
    expect(selectTargets(cfg, { by: 'os', os: 'linux' })).toEqual(['linux_amd64', 'linux_arm64']);
    expect(selectTargets(cfg, { by: 'os', os: 'darwin' })).toEqual(['darwin_arm64']);
  });

  it('shards partition the sorted targets: disjoint, complete, the same on every runner', () => {
    for (const count of [1, 2, 3, 5, 7]) {
      const shares = Array.from({ length: count }, (_, i) => selectTargets(cfg, { by: 'shard', index: i + 1, count }));
      expect(shares.flat().sort()).toEqual(allTargets(cfg));
      expect(new Set(shares.flat()).size).toBe(allTargets(cfg).length);
    }
    expect(selectTargets(cfg, { by: 'shard', index: 2, count: 2 })).toEqual(['freebsd_amd64', 'linux_arm64']);
  });

  it('--targets must name configured targets', () => {
    expect(selectTargets(cfg, { by: 'targets', targets: ['linux_arm64', 'darwin_arm64', 'linux_arm64'] })).toEqual(['darwin_arm64', 'linux_arm64']);
    expect(() => selectTargets(cfg, { by: 'targets', targets: ['linux_s390x'] })).toThrow(
      '--targets: linux_s390x is not configured in builds[].targets (configured: darwin_arm64, freebsd_amd64, linux_amd64, linux_arm64, windows_amd64)',
    );
  });

  it('--shard and --split-id are checked', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['0/5', '6/5', '2', 'a/b', '1/0', '-1/2']) expect(() => parseShard(bad)).toThrow(/^--shard: expected N\/M/);
    expect(splitId({ by: 'shard', index: 2, count: 5 })).toBe('shard-2-of-5');
    expect(splitId({ by: 'targets', targets: ['linux_arm64', 'linux_amd64'] })).toBe('linux_amd64-linux_arm64');
    for (const bad of ['../x', '.hidden', 'a/b', '', 'x'.repeat(65)]) expect(() => splitId({ by: 'os', os: 'linux' }, bad)).toThrow(/^--split-id: /);
  });

  it('config digest: stable under key order, changed by any value', () => {
    const a = { project_name: 'x', builds: [{ id: 'b', targets: ['linux_amd64'] }] } as unknown as RelsignConfig;
    const b = { builds: [{ targets: ['linux_amd64'], id: 'b' }], project_name: 'x' } as unknown as RelsignConfig;
    expect(configDigest(a)).toBe(configDigest(b));
    expect(configDigest(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(configDigest({ ...a, project_name: 'y' } as RelsignConfig)).not.toBe(configDigest(a));
  });
});

describe('loadParts treats context.json as hostile', () => {
  let dir: string;
  let dist: string;
  const expected = { tag: 'v1.0.0', commit: 'c'.repeat(40), digest: 'sha256:' + 'd'.repeat(64), targets: ['linux_amd64'] };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relsign-parts-'));
    dist = join(dir, 'dist');
    await mkdir(join(dist, 'linux'), { recursive: true });
    await writeFile(join(dist, 'linux/app.tar.gz'), 'archive bytes');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const part = async (over: Record<string, unknown> = {}, artifact: Record<string, unknown> = {}) => ({
    format: PART_FORMAT,
    split_id: 'linux',
    project_name: 'app',
    tag: expected.tag,
    commit: expected.commit,
    version: '1.0.0',
    config_digest: expected.digest,
    targets: ['linux_amd64'],
    artifacts: [{ type: 'archive', name: 'app.tar.gz', path: 'app.tar.gz', size: 13, sha256: await hashFile(join(dist, 'linux/app.tar.gz')), target: 'linux_amd64', ...artifact }],
    ...over,
  });
  const write = async (value: unknown) => writeFile(join(dist, 'linux/context.json'), typeof value === 'string' ? value : JSON.stringify(value));
  const load = () => loadParts({ distDir: dist, distShown: 'dist', expected });

  it('a well-formed part loads', async () => {
    await write(await part());
    const parts = await load();
    expect(parts).toHaveLength(1);
    expect(parts[0]!.context.artifacts[0]!.name).toBe('app.tar.gz');
  });

  it('refuses paths that leave the part, also through a symlink', async () => {
    for (const path of ['../../etc/passwd', '/etc/passwd', 'a/../../x', 'C:/x', 'a\\..\\x', './app.tar.gz']) {
      await write(await part({}, { path }));
      await expect(load()).rejects.toThrow(/artifacts\[0\]: path .* must be a relative path inside its part$/);
    }
    await symlink('/etc/passwd', join(dist, 'linux/link'));
    await write(await part({}, { path: 'link' }));
    await expect(load()).rejects.toThrow('continue --merge: dist/linux/link resolves outside its part; refusing to merge');
  });

  it('refuses a file listed but missing, not JSON, the wrong format, an oversized file, a hostile type', async () => {
    await write(await part({}, { path: 'gone.tar.gz' }));
    await expect(load()).rejects.toThrow('continue --merge: dist/linux/gone.tar.gz is listed in context.json but missing; refusing to merge');
    await write('{not json');
    await expect(load()).rejects.toThrow('continue --merge: dist/linux/context.json: not valid JSON');
    await write(await part({ format: 'other/9' }));
    await expect(load()).rejects.toThrow(/format is "other\/9", expected relsign-split\/1$/);
    await write(' '.repeat(MAX_PART_FILE_BYTES + 1));
    await expect(load()).rejects.toThrow(`continue --merge: dist/linux/context.json is larger than ${MAX_PART_FILE_BYTES} bytes`);
    await write(await part({}, { type: 'signature' }));
    await expect(load()).rejects.toThrow(/artifacts\[0\]: type must be one of binary, uploadable_binary, archive$/);
    await write(await part({ targets: ['../x'] }));
    await expect(load()).rejects.toThrow(/targets must be a list of targets such as linux_amd64$/);
  });

  it('refuses a different tag or config, and an empty dist', async () => {
    await write(await part({ tag: 'v0.9.0' }));
    await expect(load()).rejects.toThrow('continue --merge: part dist/linux was built from tag v0.9.0, but this checkout is at v1.0.0; refusing to merge');
    await write(await part({ config_digest: 'sha256:' + 'e'.repeat(64) }));
    await expect(load()).rejects.toThrow('continue --merge: part dist/linux was built from a different config (config digest differs); refusing to merge');
    await rm(join(dist, 'linux/context.json'));
    await expect(load()).rejects.toThrow(/^continue --merge: no split parts \(dist\/\*\/context\.json\) found/);
  });
});
