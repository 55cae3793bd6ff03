import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadParts } from '../../src/pipeline/split.js';

/** context.json's `images` is hostile input: every field is checked before any registry is asked. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relsign-split-images-ctx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DIGEST = `sha256:${'a'.repeat(64)}`;
const COMMIT = 'c'.repeat(40);
const goodImage = () => ({
  id: 'hello',
  pushed: true,
  repositories: ['ghcr.io/acme/hello'],
  platforms: [{ platform: 'linux/amd64', digest: DIGEST, size: 500, media_type: 'application/vnd.oci.image.manifest.v1+json' }],
});

async function load(images: unknown): Promise<unknown> {
  const dist = await mkdtemp(join(dir, 'dist-'));
  await mkdir(join(dist, 'part'));
  const ctx = {
    format: 'relsign-split/1',
    split_id: 'part',
    project_name: 'hello',
    tag: 'v1.0.0',
    commit: COMMIT,
    version: '1.0.0',
    config_digest: 'sha256:x',
    targets: ['linux_amd64'],
    artifacts: [],
    images,
  };
  await writeFile(join(dist, 'part', 'context.json'), JSON.stringify(ctx));
  const parts = await loadParts({ distDir: dist, distShown: 'dist', expected: { tag: 'v1.0.0', commit: COMMIT, digest: 'sha256:x', targets: ['linux_amd64'] } });
  return parts[0]!.context.images;
}

describe('context.json images', () => {
  it('a well-formed record is read back as written', async () => {
    expect(await load([goodImage()])).toEqual([goodImage()]);
    expect(await load([{ ...goodImage(), pushed: false, layout: 'images/hello' }])).toEqual([{ ...goodImage(), pushed: false, layout: 'images/hello' }]);
  });

  const bad: Array<[string, (im: ReturnType<typeof goodImage>) => unknown, RegExp]> = [
    ['digest not sha256', (im) => ({ ...im, platforms: [{ ...im.platforms[0], digest: 'sha256:../../x' }] }), /images\[0\]: platforms\[0\]: digest "sha256:\.\.\/\.\.\/x" is not a sha256 digest$/],
    ['digest of another algorithm', (im) => ({ ...im, platforms: [{ ...im.platforms[0], digest: `sha512:${'a'.repeat(128)}` }] }), /platforms\[0\]: digest .* is not a sha256 digest$/],
    ['platform syntax', (im) => ({ ...im, platforms: [{ ...im.platforms[0], platform: 'linux/amd64/../../x' }] }), /platforms\[0\]: platform must be os\/arch\[\/variant\]/],
    ['media type', (im) => ({ ...im, platforms: [{ ...im.platforms[0], media_type: 'text/html' }] }), /platforms\[0\]: media_type must be application\/vnd\.oci\.image\.manifest\.v1\+json$/],
    ['size', (im) => ({ ...im, platforms: [{ ...im.platforms[0], size: 1e12 }] }), /platforms\[0\]: size must be a whole number of bytes$/],
    ['a platform twice', (im) => ({ ...im, platforms: [im.platforms[0], im.platforms[0]] }), /images\[0\]: platform linux\/amd64 is listed twice$/],
    ['no platforms', (im) => ({ ...im, platforms: [] }), /images\[0\]: platforms must be a list of 1 to 64$/],
    ['layout outside the part', (im) => ({ ...im, pushed: false, layout: '../other/images/hello' }), /images\[0\]: layout "\.\.\/other\/images\/hello" must be a relative path inside its part$/],
    ['absolute layout', (im) => ({ ...im, pushed: false, layout: '/etc' }), /layout "\/etc" must be a relative path inside its part$/],
    ['id', (im) => ({ ...im, id: '../x' }), /images\[0\]: id must be an image id/],
    ['repositories not strings', (im) => ({ ...im, repositories: [{ registry: 'x' }] }), /images\[0\]: repositories must be a list of at most 64 repositories$/],
    ['pushed not boolean', (im) => ({ ...im, pushed: 'yes' }), /images\[0\]: pushed must be true or false$/],
  ];
  for (const [what, mutate, expected] of bad) {
    it(`refuses ${what}`, async () => {
      await expect(load([mutate(goodImage())])).rejects.toThrow(expected);
    });
  }

  it('refuses an image listed twice, and more images than a part may hold', async () => {
    await expect(load([goodImage(), goodImage()])).rejects.toThrow(/dist\/part\/context\.json: image hello is listed twice$/);
    await expect(load(Array.from({ length: 257 }, (_, i) => ({ ...goodImage(), id: `i${i}` })))).rejects.toThrow(/images must be a list of at most 256$/);
    await expect(load({ hello: goodImage() })).rejects.toThrow(/images must be a list of at most 256$/);
  });
});
