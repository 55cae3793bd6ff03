import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, repositoryName } from '../../src/oci/reference.js';
import { RelsignError } from '../../src/util/errors.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  const table: [string, { registry: string; repository: string; tag?: string; digest?: string }][] = [
    ['alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['alpine:3.20', { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['library/alpine:latest', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['index.docker.io/library/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['bitnami/nginx:1.27.0-debian-12-r5', { registry: 'docker.io', repository: 'bitnami/nginx', tag: '1.27.0-debian-12-r5' }],
    ['ghcr.io/sigstore/cosign/cosign:v2.4.1', { registry: 'ghcr.io', repository: 'sigstore/cosign/cosign', tag: 'v2.4.1' }],
    ['gcr.io/distroless/static-debian12:nonroot', { registry: 'gcr.io', repository: 'distroless/static-debian12', tag: 'nonroot' }],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/my_app__x', { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com', repository: 'my_app__x' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/app:dev', { registry: 'localhost:5000', repository: 'app', tag: 'dev' }],
    ['127.0.0.1:5001/team/app@' + D, { registry: '127.0.0.1:5001', repository: 'team/app', digest: D }],
    ['quay.io/org/app:v1@' + D, { registry: 'quay.io', repository: 'org/app', tag: 'v1', digest: D }],
    ['[::1]:5000/app', { registry: '[::1]:5000', repository: 'app' }],
    ['Registry/app', { registry: 'Registry', repository: 'app' }],
    ['my-registry/app', { registry: 'docker.io', repository: 'my-registry/app' }],
    ['a/b/c/d:T_1.x-y', { registry: 'docker.io', repository: 'a/b/c/d', tag: 'T_1.x-y' }],
    [`alpine@sha512:${'b'.repeat(128)}`, { registry: 'docker.io', repository: 'library/alpine', digest: `sha512:${'b'.repeat(128)}` }],
  ];
  for (const [text, want] of table) {
    it(`${text}`, () => {
      expect(parseReference(text)).toEqual(want);
    });
  }

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['Alpine', /invalid repository name/],
    ['alpine:', /invalid tag ""/],
    ['alpine:-x', /invalid tag "-x"/],
    [`alpine:${'t'.repeat(129)}`, /invalid tag/],
    ['alpine@sha256:abc', /sha256 digest must be 64 lowercase hex/],
    [`alpine@sha256:${'A'.repeat(64)}`, /sha256 digest must be 64 lowercase hex/],
    [`alpine@md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    ['alpine@', /digest must be ALGORITHM:HEX/],
    ['ghcr.io/', /missing repository name|invalid repository/],
    ['ghcr.io//x', /invalid repository/],
    ['ghcr.io/a--/b', /invalid repository/],
    ['ghcr.io/a..b', /invalid repository/],
    ['-bad.io:5000/x', /invalid registry host/],
    ['host.io:99999999/x', /invalid registry host/],
    ['a b/c', /invalid repository|invalid registry/],
    ['ghcr.io/x/../../etc', /invalid repository/],
    [`ghcr.io/${'a/'.repeat(126)}b`, /name longer than 255/],
  ];
  for (const [text, re] of bad) {
    it(`rejects ${JSON.stringify(text.slice(0, 40))}`, () => {
      let err: unknown;
      try {
        parseReference(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RelsignError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('hostile 10 KB names are refused quickly with a short message', () => {
    const hostile = [
      'a'.repeat(10_000),
      `${'a-'.repeat(5_000)}!`,
      `ghcr.io/${'a_'.repeat(5_000)}`,
      `${'a.'.repeat(5_000)}/x`,
      `x:${'1'.repeat(10_000)}`,
      `x@sha256:${'a'.repeat(10_000)}`,
    ];
    const start = performance.now();
    for (const h of hostile) {
      expect(() => parseReference(h)).toThrow(RelsignError);
      try {
        parseReference(h);
      } catch (e) {
        expect((e as Error).message.length).toBeLessThan(200);
      }
    }
    // A loose bound: linear checks take microseconds, catastrophic backtracking would take seconds.
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('near-limit components stay linear (a 255-character repository with long separator runs)', () => {
    const name = `ghcr.io/${'a' + '-'.repeat(200) + 'b!'}`;
    const start = performance.now();
    expect(() => parseReference(name)).toThrow(/invalid repository/);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('formatReference and repositoryName', () => {
  it('round-trips and spells Docker Hub as go-containerregistry does', () => {
    const r = parseReference('alpine:3.20');
    expect(formatReference(r)).toBe('docker.io/library/alpine:3.20');
    expect(repositoryName(r)).toBe('index.docker.io/library/alpine');
    const l = parseReference(`localhost:5000/foo:1@${D}`);
    expect(formatReference(l)).toBe(`localhost:5000/foo:1@${D}`);
    expect(repositoryName(l)).toBe('localhost:5000/foo');
    expect(parseReference(formatReference(l))).toEqual(l);
  });
});
