import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderTemplate, TemplateError } from '../../src/template/index.js';

let dir: string;
let subject: string;
let text: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relsign-template-'));
  subject = join(dir, 'subject');
  writeFileSync(subject, 'lorem ipsum');
  text = join(dir, 'file_a.txt');
  writeFileSync(text, '\n  this is the content of a file \n\n');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Expected digests of "lorem ipsum" from GoReleaser's internal/tmpl tests.
describe('checksum functions', () => {
  test.each([
    ['md5', '80a751fde577028640c419000e33eba6'],
    ['sha1', 'bfb7759a67daeb65410490b4d98bb9da7d1ea2ce'],
    ['sha224', 'e191edf06005712583518ced92cc2ac2fac8d6e4623b021a50736a91'],
    ['sha256', '5e2bf57d3f40c4b6df69daf1936cb766f832374b4fc0259a7cbff06e2f70f269'],
    ['sha384', '597493a6cf1289757524e54dfd6f68b332c7214a716a3358911ef5c09907adc8a654a18c1d721e183b0025f996f6e246'],
    ['sha512', 'f80eebd9aabb1a15fb869ed568d858a5c0dca3d5da07a410e1bd988763918d973e344814625f7c844695b2de36ffd27af290d0e34362c51dee5947d58d40527a'],
    ['sha3_224', '6ef5918377a5309c4b8b41a4a1d9c680cc3259e7a7619f47ca345714'],
    ['sha3_256', '784335e2ae23886cb5fa1261fc3dfbaee12623241791c5e4d78b0da619a78051'],
    ['sha3_384', 'ba6ea7b48af10d7025c4b0c6a105f410278705020d921377c729fe41e88cd9fc2b851002b4cc5a42ba5c34ca8a07b36d'],
    ['sha3_512', 'bce76c1eacfaf74912144f26e0fdadba5f7b6893fb046e21d280ffeb3f1f1bf14213862e292e3be64be8c6e5c8216b839c658f3893eae700e4a92f5625ec25c9'],
    ['blake2b', 'ca0dbbe27fca7e5d97b612a76b66d9d42fd67ece4265a50c09ccaefcdc03d9d5a87fa1fddc926ae10c6667342c69df5c33117cf636fca82ac1377c2b4e23e2bc'],
    ['blake2s', '7cd93f6d174040f3618982922701c54ec5b02dd28902b5160628b1d5516a62c9'],
    ['crc32', '72d7748e'],
  ])('%s', (fn, expected) => {
    expect(renderTemplate(`{{ ${fn} .ArtifactPath }}`, { ArtifactPath: subject })).toBe(expected);
  });
});

describe('readFile / mustReadFile', () => {
  test('read and trim', () => {
    expect(renderTemplate('{{ readFile .P }}', { P: text })).toBe('this is the content of a file');
    expect(renderTemplate('{{ mustReadFile .P }}', { P: text })).toBe('this is the content of a file');
  });
  test('readFile gives "" for a missing file, mustReadFile fails', () => {
    const missing = join(dir, 'nope.txt');
    expect(renderTemplate('[{{ readFile .P }}]', { P: missing })).toBe('[]');
    expect(() => renderTemplate('{{ mustReadFile .P }}', { P: missing }, { name: 'release.footer' })).toThrow(
      new TemplateError('release.footer', `error calling mustReadFile: open ${missing}: no such file or directory`, { line: 1, column: 3 }),
    );
  });
  test('~/ is the home directory', () => {
    expect(renderTemplate('[{{ readFile "~/.relsign-surely-not-here" }}]', {})).toBe('[]');
    expect(() => renderTemplate('{{ mustReadFile "~/.relsign-surely-not-here" }}', {})).toThrow(/no such file or directory/);
  });
});

describe('abs', () => {
  test('relative to the working directory, cleaned', () => {
    expect(renderTemplate('{{ abs "file" }}', {})).toBe(join(process.cwd(), 'file'));
    expect(renderTemplate('{{ abs "a/../b/./c/" }}', {})).toBe(join(process.cwd(), 'b', 'c'));
    expect(renderTemplate('{{ abs "/x/../y/" }}', {})).toBe('/y');
  });
});
