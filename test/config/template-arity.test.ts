import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

async function errorsOf(yaml: string): Promise<string[]> {
  const p = await TempRepo.plain({ 'relsign.config.yaml': yaml });
  repos.push(p);
  try {
    await loadConfig({ cwd: p.dir });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.details];
    throw err;
  }
  return [];
}

describe('check-time template arity', () => {
  it('{{ replace .Version "v" }} is an error with file:line:col, before any release work', async () => {
    const errs = await errorsOf('project_name: a\nsigns:\n  - cmd: x\n    artifacts: all\n    signature: \'{{ replace .Version "v" }}.sig\'\n');
    expect(errs).toEqual([
      'relsign.config.yaml:5:16: signs[0].signature: bad template: wrong number of args for replace: want 3 got 2 (template line 1, column 3)',
    ]);
  });

  it.each([
    ['a piped value counts as the last argument', '{{ .Version | replace "v" "" }}', true],
    ['too many through a pipe', '{{ .Version | replace "v" "" "x" }}', false],
    ['a nested call', '{{ print (trimprefix .Tag) }}', false],
    ['variadic with enough', '{{ printf "%s-%s" .Version .Os }}', true],
    ['variadic with too few', '{{ printf }}', false],
    ['inside if', '{{ if trimprefix .Os }}x{{ end }}', false],
  ])('%s: %s', async (_name, template, ok) => {
    const errs = await errorsOf(`project_name: a\narchives:\n  - name_template: '${template}'\n`);
    if (ok) expect(errs).toEqual([]);
    else expect(errs[0]).toMatch(/archives\[0\]\.name_template: bad template: wrong number of args for \w+: want (at least )?\d+ got \d+/);
  });
});
