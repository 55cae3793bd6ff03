import { describe, expect, it } from 'vitest';
import { splitArgs } from '../../src/util/argv.js';
import { Redactor } from '../../src/util/redact.js';
import { parseDuration } from '../../src/pipeline/runner.js';
import { redactConfig } from '../../src/stages/metadata.js';

describe('splitArgs', () => {
  it.each([
    ['go build -o out', ['go', 'build', '-o', 'out']],
    [`echo "a b" 'c d' e\\ f`, ['echo', 'a b', 'c d', 'e f']],
    [`sh -c "echo \\"hi\\""`, ['sh', '-c', 'echo "hi"']],
    [`x ''`, ['x', '']],
    ['  spaced   out  ', ['spaced', 'out']],
  ])('%s', (line, expected) => {
    expect(splitArgs(line)).toEqual(expected);
  });
  it('rejects an unterminated quote, naming where', () => {
    expect(() => splitArgs('echo "oops', 'before.hooks[0]')).toThrow('before.hooks[0]: unterminated " quote');
  });
});

describe('Redactor', () => {
  it('hides registered secrets and secret-looking env values', () => {
    const r = new Redactor();
    r.add('hunter22');
    r.addFromEnv({ GITHUB_TOKEN: 'ghp_abcdef123', HOME: '/root', COSIGN_PASSWORD: 'p@ss', MY_VAR: 'ghs_zzzzzz' });
    const out = r.redact('pw=hunter22 tok=ghp_abcdef123 home=/root cp=p@ss v=ghs_zzzzzz');
    expect(out).toBe('pw=[REDACTED] tok=[REDACTED] home=/root cp=[REDACTED] v=[REDACTED]');
  });
  it('ignores tiny values that would mangle text', () => {
    const r = new Redactor();
    r.add('a');
    expect(r.redact('a cat')).toBe('a cat');
  });
});

describe('parseDuration', () => {
  it.each([
    ['1h', 3_600_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['1500ms', 1500],
  ])('%s', (t, ms) => expect(parseDuration(t)).toBe(ms));
  it.each(['', 'abc', '10', '1x', '1h junk'])('rejects %j', (t) => expect(parseDuration(t)).toBeUndefined());
});

describe('effective config redaction', () => {
  it('replaces secret keys and secret env entries, keeps template references', () => {
    const out = redactConfig({
      env: ['FOO=bar', 'API_TOKEN=abc123'],
      signs: [{ stdin: 'plainpass', password: '{{ .Env.COSIGN_PASSWORD }}' }, { password: 'literal' }],
    });
    expect(out).toEqual({
      env: ['FOO=bar', 'API_TOKEN=[REDACTED]'],
      signs: [{ stdin: '[REDACTED]', password: '{{ .Env.COSIGN_PASSWORD }}' }, { password: '[REDACTED]' }],
    });
  });
});
