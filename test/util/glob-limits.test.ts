import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGlob, MAX_BRACE_EXPANSION } from '../../src/util/glob.js';
import { RelsignError } from '../../src/util/errors.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * Config globs are compiled to backtracking regexes and brace-expanded by
 * globby; patterns whose matching time or expansion explodes are refused
 * before globby sees them.
 */
describe('checkGlob', () => {
  it.each(['README*', '**/*.md', 'dist/*_linux_*.tar.gz', '*a*b*c', '{LICENSE,README}*', 'docs/{a,b}/{c,d}/*.md', 'file{1..9}.txt', '\\*\\*\\*\\*x*'])(
    'accepts %s',
    (p) => {
      expect(() => checkGlob(p, 'x')).not.toThrow();
    },
  );

  it('refuses four "*" in one path segment, naming the setting', () => {
    expect(() => checkGlob('docs/*a*a*a*b', 'archives[0].files[2].src')).toThrow(RelsignError);
    expect(() => checkGlob('docs/*a*a*a*b', 'archives[0].files[2].src')).toThrow(
      'archives[0].files[2].src: glob "docs/*a*a*a*b" has 4 "*" in one path segment (at most 3: matching time grows as the name length to that power); split it into several patterns',
    );
  });

  it(`refuses brace groups expanding into more than ${MAX_BRACE_EXPANSION} patterns`, () => {
    expect(() => checkGlob('{a,b}'.repeat(16), 'checksum.extra_files[0].glob')).toThrow(/^checksum\.extra_files\[0\]\.glob: glob ".*" expands its \{…\} groups into more than 256 patterns/);
    expect(() => checkGlob('f{1..100000}', 'x')).toThrow(/more than 256 patterns/);
    expect(() => checkGlob('{a,{b,c}}{d,e}', 'x')).not.toThrow();
  });
});

describe('a hostile glob in a release', () => {
  let repo: TempRepo;
  beforeAll(async () => {
    repo = await TempRepo.create({
      'relsign.config.yaml': 'project_name: demo\nchecksum:\n  extra_files: ["*a*a*a*a*a*a*b"]\nsource:\n  enabled: true\n',
      [`${'a'.repeat(200)}`]: 'x',
    });
    await repo.commit('initial');
  });
  afterAll(async () => {
    await repo?.remove();
  });

  it('fails at once with one line naming it, instead of backtracking for minutes', async () => {
    const t0 = performance.now();
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: repo.dir });
    expect(performance.now() - t0).toBeLessThan(8000); // loose; the unguarded glob takes minutes here
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^relsign: checksum\.extra_files\[0\]\.glob: glob "\*a\*a\*a\*a\*a\*a\*b" has 7 "\*" in one path segment/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
