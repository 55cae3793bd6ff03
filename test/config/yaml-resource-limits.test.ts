/**
 * YAML that would exhaust the config loader: alias bombs, nesting deeper than the
 * parser's stack, and huge garbled files. Each gives one config error naming the
 * file, through `loadConfig` and `relsign check`, in bounded time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relsign-yaml-limits-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function configErrors(name: string, text: string): Promise<{ lines: string[]; ms: number }> {
  await writeFile(join(dir, name), text);
  const started = performance.now();
  try {
    await loadConfig({ cwd: dir, configPath: name });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { lines: [...(err as ConfigError).details], ms: performance.now() - started };
  }
  throw new Error('the config loaded');
}

const aliasBomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 20 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n');
const deepImplicitMaps = `files: [{dst: ${'st: '.repeat(20_000)}x}]\n`;
const garbled = `{"version": 2, "signs": [{"builtin", ${'"in", '.repeat(40_000)}]}\n`;

describe('YAML that would exhaust the loader', () => {
  it('an alias bomb: one error naming the file (yaml threw a ReferenceError)', async () => {
    const { lines } = await configErrors('bomb.yaml', aliasBomb);
    expect(lines).toEqual([expect.stringMatching(/^bomb\.yaml: YAML error: Excessive alias count/)]);
  });

  it('implicit maps nested 20,000 deep in a flow map: "nested too deeply", not a stack overflow', async () => {
    const { lines } = await configErrors('deep.yaml', deepImplicitMaps);
    expect(lines).toEqual(['deep.yaml: YAML syntax error: nested too deeply to parse']);
  });

  it('240 KB of garbled flow YAML: the first error, located, quickly (every error used to be pretty-printed: quadratic)', async () => {
    expect(garbled.length).toBeLessThan(256 * 1024);
    const { lines, ms } = await configErrors('garbled.yaml', garbled);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^garbled\.yaml:1:\d+: YAML syntax error: /);
    expect(ms).toBeLessThan(5000);
  });

  it('a YAML config over 256 KiB is refused unparsed', async () => {
    const { lines } = await configErrors('huge.yaml', `project_name: x\n# ${'y'.repeat(300 * 1024)}\n`);
    expect(lines).toEqual(['huge.yaml: too large for a config file (301 KiB; at most 256 KiB)']);
  });

  it('syntax errors still point at the right line and column', async () => {
    const { lines } = await configErrors('syntax.yaml', 'project_name: a\nbuilds:\n  - id: x\n   cmd: [\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^syntax\.yaml:4:\d+: YAML syntax error: /);
  });

  it.each([
    ['bomb.yaml', aliasBomb, /^relsign: bomb\.yaml: YAML error: Excessive alias count/],
    ['deep.yaml', deepImplicitMaps, /^relsign: deep\.yaml: YAML syntax error: nested too deeply to parse$/],
    ['warn.yaml', 'project_name: x\n? {a: 1}\n: y\n', /^relsign: warn\.yaml:/],
  ])('relsign check %s: exit 1, one line, no stack trace and no library warning', async (name, text, msg) => {
    await writeFile(join(dir, name), text);
    const r = await runCli(['check', '--config', name], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(msg);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).not.toMatch(/Warning|internal error/);
  });
});
