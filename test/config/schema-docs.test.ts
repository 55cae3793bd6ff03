import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

describe('published schema', () => {
  it('docs/configuration.md is generated from the current schema', async () => {
    const r = await execa(process.execPath, ['scripts/gen-config-docs.mjs', '--check'], { cwd: REPO_ROOT, reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('is shipped in the package and exported for editors', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.files).toContain('schema/');
    expect(pkg.exports['./schema/relsign.schema.json']).toBe('./schema/relsign.schema.json');
    const schema = JSON.parse(await readFile(new URL('../../schema/relsign.schema.json', import.meta.url), 'utf8'));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });
});
