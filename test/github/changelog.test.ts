import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyDefaults } from '../../src/config/defaults.js';
import { createContext } from '../../src/pipeline/context.js';
import { Logger } from '../../src/pipeline/logger.js';
import { changelogEntries, changelogStage, formatChangelog } from '../../src/stages/changelog.js';
import { TempRepo } from '../helpers/repo.js';

let repo: TempRepo;
const hashes: Record<string, string> = {};

beforeEach(async () => {
  repo = await TempRepo.create();
  await repo.commit('initial import', { 'a.txt': '1' });
  await repo.tag('v1.0.0');
  for (const msg of ['feat: add widgets', 'docs: explain widgets', 'fix: widget crash', 'chore: bump deps']) {
    const full = await repo.commit(msg, { [`${msg.length}.txt`]: msg });
    hashes[msg] = full.slice(0, 7);
  }
  await repo.tag('v1.1.0');
});
afterEach(() => repo.remove());

describe('changelog', () => {
  it('lists PREVIOUS_TAG..TAG subjects with short hashes, newest first', async () => {
    const entries = await changelogEntries({ cwd: repo.dir, from: 'v1.0.0', to: 'v1.1.0' });
    expect(entries.map((e) => e.subject)).toEqual(['chore: bump deps', 'fix: widget crash', 'docs: explain widgets', 'feat: add widgets']);
    expect(entries[0]!.hash).toMatch(/^[0-9a-f]{7,}$/);
    expect(hashes['chore: bump deps']!.startsWith(entries[0]!.hash.slice(0, 7))).toBe(true);
    expect(formatChangelog(entries)).toBe(
      `## Changelog\n\n${entries.map((e) => `* ${e.hash} ${e.subject}`).join('\n')}\n`,
    );
  });

  it('applies exclude/include regexes and sort', async () => {
    const ex = await changelogEntries({ cwd: repo.dir, from: 'v1.0.0', to: 'v1.1.0', exclude: ['^docs:', '^chore'], sort: 'asc' });
    expect(ex.map((e) => e.subject)).toEqual(['feat: add widgets', 'fix: widget crash']);
    const inc = await changelogEntries({ cwd: repo.dir, from: 'v1.0.0', to: 'v1.1.0', include: ['^(feat|fix):'], sort: 'desc' });
    expect(inc.map((e) => e.subject)).toEqual(['fix: widget crash', 'feat: add widgets']);
    await expect(changelogEntries({ cwd: repo.dir, from: 'v1.0.0', to: 'v1.1.0', exclude: ['('] })).rejects.toThrow(
      /changelog\.filters\.exclude\[0\]: invalid regular expression/,
    );
  });

  it('filters are RE2 (linear time): a catastrophic pattern on a 34-character subject returns at once', async () => {
    const subject = `${'a'.repeat(34)}!`;
    await repo.commit(subject, { 'evil.txt': 'x' });
    await repo.tag('v1.2.0');
    const t0 = performance.now();
    const entries = await changelogEntries({ cwd: repo.dir, from: 'v1.1.0', to: 'v1.2.0', exclude: ['^(a+)+$'], include: ['^(a|aa)+!$'] });
    expect(performance.now() - t0).toBeLessThan(3000); // loose: a backtracking engine takes minutes here
    expect(entries.map((e) => e.subject)).toEqual([subject]);
    await expect(changelogEntries({ cwd: repo.dir, from: 'v1.1.0', to: 'v1.2.0', exclude: ['(a)\\1'] })).rejects.toThrow(
      'changelog.filters.exclude[0]: invalid regular expression "(a)\\\\1": error parsing regexp: invalid escape sequence: `\\1`',
    );
  });

  it('first release (no previous tag) lists the whole history', async () => {
    const entries = await changelogEntries({ cwd: repo.dir, from: '', to: 'v1.0.0' });
    expect(entries.map((e) => e.subject)).toEqual(['initial import']);
  });

  function ctxFor(options: { snapshot?: boolean; releaseNotes?: string } = {}, raw: Record<string, unknown> = {}) {
    const config = applyDefaults(raw, { projectName: 'widget' });
    return createContext({
      cwd: repo.dir,
      config,
      log: new Logger({ stream: { write: () => true } as unknown as NodeJS.WritableStream }),
      options,
      git: { tag: 'v1.1.0', previousTag: 'v1.0.0', fullCommit: 'x'.repeat(40) },
    });
  }

  it('stage: fills ctx.releaseNotes and writes dist/CHANGELOG.md (also under --snapshot)', async () => {
    const ctx = ctxFor({ snapshot: true }, { changelog: { filters: { exclude: ['^docs:'] } } });
    expect(changelogStage.skip(ctx)).toBe(false);
    await changelogStage.run(ctx);
    expect(ctx.releaseNotes).toMatch(/^## Changelog\n\n\* \w+ chore: bump deps\n/);
    expect(ctx.releaseNotes).not.toMatch(/docs:/);
    expect(await readFile(join(repo.dir, 'dist', 'CHANGELOG.md'), 'utf8')).toBe(ctx.releaseNotes);
  });

  it('stage: --release-notes FILE wins; changelog.disable skips', async () => {
    await writeFile(join(repo.dir, 'NOTES.md'), 'Hand-written notes\n');
    const ctx = ctxFor({ releaseNotes: 'NOTES.md' }, { changelog: { disable: true } });
    expect(changelogStage.skip(ctx)).toBe(false);
    await changelogStage.run(ctx);
    expect(ctx.releaseNotes).toBe('Hand-written notes\n');
    expect(changelogStage.skip(ctxFor({}, { changelog: { disable: true } }))).toBe('changelog.disable is set');
    await expect(changelogStage.run(ctxFor({ releaseNotes: 'missing.md' }))).rejects.toThrow(/--release-notes missing\.md: no such file/);
  });
});
