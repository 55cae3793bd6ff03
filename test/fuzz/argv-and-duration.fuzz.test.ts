/**
 * Fuzzes the small text parsers of the command line: `--timeout` durations
 * (parseDuration), hook and build command strings (splitArgs), and the
 * cobra-style boolean flags (normalizeBoolArgs). Only RelsignError may come
 * out, and each parser's own invariants must hold on every input.
 */
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/pipeline/runner.js';
import { normalizeBoolArgs } from '../../src/sigstore/flags.js';
import { splitArgs } from '../../src/util/argv.js';
import { RelsignError } from '../../src/util/errors.js';
import { fuzz, fuzzRuns, fuzzSeed, fuzzTimeout, mutate, randomText } from './input-mutator.js';

const SEED = fuzzSeed(0x5eed_a59f);
const RUNS = fuzzRuns(2000);
const isRelsignError = (err: unknown): boolean => err instanceof RelsignError;

describe('fuzz: parseDuration (--timeout)', () => {
  const corpus = ['30s', '10m', '1h30m', '1500ms', '0.5h', '1h0m0s', '2h45m30.5s', '600h', '1ms'].map((s) => Buffer.from(s));
  it('never throws; returns undefined or a non-negative number; a well-formed duration sums its parts', async () => {
    const r = await fuzz({
      name: 'parseDuration',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => (rng.chance(0.8) ? mutate(rng, corpus).toString('latin1') : randomText(rng, 40)),
      run: (text) => parseDuration(text),
      allowed: () => false,
      check: (text, out) => {
        if (out === undefined) return;
        expect(typeof out).toBe('number');
        expect(out as number).toBeGreaterThanOrEqual(0);
        // Accepted text is exactly a sequence of <number><unit>.
        expect(text).toMatch(/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/);
      },
    });
    expect(r.cases).toBe(RUNS);
  }, fuzzTimeout(RUNS));
});

describe('fuzz: splitArgs (hook and build command strings)', () => {
  const corpus = [
    'go build -o dist/app ./cmd/app',
    `sh -c 'echo "hello world" > out.txt'`,
    'cosign sign-blob --key=env://K --output-signature="${signature}" "${artifact}"',
    `printf '%s\\n' a\\ b "c \\"d\\" e" '' ""`,
    'echo \\$HOME "$HOME" \'$HOME\' `date`',
  ].map((s) => Buffer.from(s));
  it('only RelsignError (unterminated quotes); output words never contain unquoted whitespace splits', async () => {
    const r = await fuzz({
      name: 'splitArgs',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => (rng.chance(0.85) ? mutate(rng, corpus).toString('utf8') : randomText(rng, 200)),
      run: (line) => splitArgs(line, 'hooks[0]'),
      allowed: isRelsignError,
      check: (line, out) => {
        expect(Array.isArray(out)).toBe(true);
        const words = out as string[];
        if (words.some((w) => typeof w !== 'string')) throw new Error('a word is not a string');
        // A line with no quotes or backslashes splits exactly like whitespace splitting.
        if (!/['"\\]/.test(line)) expect(words.join('\0')).toBe(line.split(/\s+/).filter((w) => w !== '').join('\0'));
      },
    });
    expect(r.rejected).toBeGreaterThan(0);
    expect(r.rejected).toBeLessThan(r.cases);
  }, fuzzTimeout(RUNS));
});

describe('fuzz: normalizeBoolArgs (--flag=true|false)', () => {
  const names = ['tlog-upload', 'b64', 'new-bundle-format', 'insecure-ignore-tlog'];
  it('only RelsignError (a bad boolean value); every other argument passes through unchanged', async () => {
    const r = await fuzz({
      name: 'normalizeBoolArgs',
      seed: SEED,
      runs: RUNS,
      generate: (rng) => {
        const n = rng.size(8);
        return Array.from({ length: n }, () => {
          const k = rng.int(6);
          if (k === 0) return `--${rng.pick(names)}=${rng.pick(['true', 'false', '1', '0', 't', 'f', 'TRUE', ' false ', '', 'yes', randomText(rng, 6)])}`;
          if (k === 1) return `--${rng.pick(names)}`;
          if (k === 2) return '--';
          if (k === 3) return `--${randomText(rng, 10)}=${randomText(rng, 10)}`;
          return randomText(rng, 20);
        });
      },
      run: (args) => normalizeBoolArgs(args, names),
      allowed: isRelsignError,
      check: (args, out) => {
        const result = out as string[];
        expect(result).toHaveLength(args.length);
        const dashDash = args.indexOf('--');
        args.forEach((a, i) => {
          const m = /^--([a-z0-9-]+)=(.*)$/s.exec(a);
          if ((dashDash >= 0 && i >= dashDash) || !m || !names.includes(m[1]!)) expect(result[i]).toBe(a);
          else expect(result[i]).toMatch(new RegExp(`^--(no-)?${m[1]}$`));
        });
      },
    });
    expect(r.rejected).toBeGreaterThan(0);
  }, fuzzTimeout(RUNS));
});
