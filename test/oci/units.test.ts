import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../src/oci/auth.js';
import { describeRegistryError, isLoopbackHost } from '../../src/oci/client.js';
import { normalizeRegistryKey } from '../../src/oci/credentials.js';
import { retryAfterMs } from '../../src/oci/http.js';

describe('parseChallenge', () => {
  it('reads Bearer and Basic challenges as registries send them', () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/r:pull' },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
    expect(parseChallenge('bearer realm=https://x/t, service=x')).toEqual({ scheme: 'bearer', params: { realm: 'https://x/t', service: 'x' } });
    expect(parseChallenge('Bearer realm="a\\"b"')?.params.realm).toBe('a"b');
    expect(parseChallenge(null)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
  });

  it('hostile headers end quickly (bounded, one pass)', () => {
    const start = performance.now();
    expect(parseChallenge(`Bearer ${'a=,'.repeat(100_000)}`)?.scheme).toBe('bearer');
    expect(parseChallenge(`Bearer realm="${'x'.repeat(100_000)}`)?.params.realm?.length).toBeLessThan(4096);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('describeRegistryError', () => {
  it('takes the first error code and a one-line, bounded message', () => {
    const body = Buffer.from(JSON.stringify({ errors: [{ code: 'DENIED', message: `line1\nline2 ${'m'.repeat(500)}` }, { code: 'OTHER' }] }));
    const text = describeRegistryError(403, body);
    expect(text).toMatch(/^403 DENIED: line1 line2 m+…$/);
    expect(text.length).toBeLessThan(230);
    expect(describeRegistryError(502, Buffer.from('<html>bad gateway</html>'))).toBe('502');
  });
});

describe('small helpers', () => {
  it('retryAfterMs reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it('normalizeRegistryKey and isLoopbackHost', () => {
    expect(normalizeRegistryKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeRegistryKey('HTTPS://GHCR.IO')).toBe('ghcr.io');
    expect(normalizeRegistryKey('quay.io/v2/')).toBe('quay.io');
    expect(isLoopbackHost('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]:443')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
  });
});
