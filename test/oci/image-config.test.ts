import { describe, expect, it } from 'vitest';
import { imageConfig, mergeEnv, type ImageSpec } from '../../src/oci/build/image.js';
import { parsePlatform, platformMatches } from '../../src/oci/build/platform.js';

const spec = (over: Partial<ImageSpec> = {}): ImageSpec => ({
  platforms: [],
  created: new Date('2024-01-02T03:04:05Z'),
  env: [],
  labels: {},
  annotations: {},
  ...over,
});
const amd64 = parsePlatform('linux/amd64')!;
const armv7 = parsePlatform('linux/arm/v7')!;
const base = {
  architecture: 'amd64',
  os: 'linux',
  created: '2020-01-01T00:00:00Z',
  config: { Env: ['PATH=/usr/bin', 'A=1'], Entrypoint: ['/bin/sh'], Cmd: ['-c', 'echo base'], Labels: { b: '1' }, ExposedPorts: { '80/tcp': {} } },
  rootfs: { type: 'layers', diff_ids: ['sha256:' + 'a'.repeat(64)] },
  history: [{ created: '2020-01-01T00:00:00Z', created_by: 'base' }],
  'moby.buildkit.buildinfo.v1': 'kept',
};

describe('image config', () => {
  it('env merges by key in place, new keys appended', () => {
    expect(mergeEnv(['PATH=/usr/bin', 'A=1'], ['A=2', 'B=3', 'PATH=/x'])).toEqual(['PATH=/x', 'A=2', 'B=3']);
  });

  it('an entrypoint drops the base cmd (Dockerfile semantics) unless a cmd is given; unknown base fields are kept', () => {
    const c = imageConfig(spec({ entrypoint: ['/app'] }), amd64, 'sha256:' + 'b'.repeat(64), base) as any;
    expect(c.config.Entrypoint).toEqual(['/app']);
    expect(c.config.Cmd).toBeUndefined();
    expect(c.config.ExposedPorts).toEqual({ '80/tcp': {} });
    expect(c['moby.buildkit.buildinfo.v1']).toBe('kept');
    expect(c.created).toBe('2024-01-02T03:04:05Z');
    expect(c.rootfs.diff_ids).toEqual(['sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64)]);
    expect(c.history.map((h: any) => h.created_by)).toEqual(['base', 'relsign']);
    const withCmd = imageConfig(spec({ entrypoint: ['/app'], cmd: ['serve'] }), amd64, 'sha256:' + 'b'.repeat(64), base) as any;
    expect(withCmd.config.Cmd).toEqual(['serve']);
    // Only a cmd: the base's entrypoint stays.
    const onlyCmd = imageConfig(spec({ cmd: ['x'] }), amd64, 'sha256:' + 'b'.repeat(64), base) as any;
    expect([onlyCmd.config.Entrypoint, onlyCmd.config.Cmd]).toEqual([['/bin/sh'], ['x']]);
    // The base object is not modified.
    expect(base.config.Cmd).toEqual(['-c', 'echo base']);
  });

  it('scratch: a minimal config with the platform, in a fixed key order', () => {
    const c = imageConfig(spec({ env: ['A=1'], labels: { z: '1', a: '2' }, workdir: '/w', user: '65532' }), armv7, 'sha256:' + 'c'.repeat(64));
    expect(JSON.stringify(c)).toBe(
      JSON.stringify({
        architecture: 'arm',
        os: 'linux',
        variant: 'v7',
        created: '2024-01-02T03:04:05Z',
        config: { Env: ['A=1'], WorkingDir: '/w', User: '65532', Labels: { a: '2', z: '1' } },
        rootfs: { type: 'layers', diff_ids: ['sha256:' + 'c'.repeat(64)] },
        history: [{ created: '2024-01-02T03:04:05Z', created_by: 'relsign', comment: 'binaries and files' }],
      }),
    );
  });

  it('platform matching: arm64 without variant is v8; 32-bit arm needs its variant', () => {
    const arm64 = parsePlatform('linux/arm64')!;
    expect(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, arm64.oci)).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm64' }, parsePlatform('linux/arm64/v8')!.oci)).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, armv7.oci)).toBe(false);
    expect(platformMatches({ os: 'linux', architecture: 'arm' }, armv7.oci)).toBe(false);
    expect(platformMatches({ os: 'windows', architecture: 'amd64' }, amd64.oci)).toBe(false);
    expect(parsePlatform('windows/amd64')).toBeUndefined();
    expect(parsePlatform('linux/amd46')).toBeUndefined();
  });
});
