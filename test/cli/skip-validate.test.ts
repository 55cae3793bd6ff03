import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

/** A tagged project whose HEAD has moved past the tag and whose tree is dirty. */
async function movedAndDirty(): Promise<TempRepo> {
  const r = await TempRepo.create({ 'relsign.config.yaml': 'project_name: demo\n', 'README.md': '# demo\n' });
  repos.push(r);
  await r.commit('initial');
  await r.tag('v1.2.3');
  await r.commit('after the tag', { 'NOTES.md': 'x\n' });
  await r.write({ 'README.md': '# changed, not committed\n' });
  return r;
}

describe('--skip validate', () => {
  it('without it, a dirty tree with no tag on HEAD is refused', async () => {
    const r = await movedAndDirty();
    const res = await runCli(['release', '--skip', 'publish'], { cwd: r.dir });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toMatch(/no git tag points at HEAD/);
  });

  it('skips the dirty-tree and tag-at-HEAD checks, releases the latest reachable tag and warns', async () => {
    const r = await movedAndDirty();
    const res = await runCli(['release', '--skip', 'publish,validate'], { cwd: r.dir });
    expect(res.stderr).toMatch(/--skip validate: dirty-tree and tag-at-HEAD checks skipped; this release of v1\.2\.3 may not be reproducible from its tag \(the tree is dirty\)/);
    expect(res.code).toBe(0);
    expect(res.stdout + res.stderr).toMatch(/demo 1\.2\.3 \(tag v1\.2\.3/);
  });

  it('still needs some tag to release', async () => {
    const r = await TempRepo.create({ 'relsign.config.yaml': 'project_name: demo\n' });
    repos.push(r);
    await r.commit('initial');
    const res = await runCli(['release', '--skip', 'publish,validate'], { cwd: r.dir });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n').pop()).toBe('relsign: no git tag points at HEAD or is reachable from it; tag a commit (git tag v1.2.3) or use --snapshot');
  });
});

describe('--skip values', () => {
  it('release --help and the README list exactly the accepted values, each with what it does', async () => {
    const { SKIPPABLE, SKIP_EFFECTS } = await import('../../src/cli/commands/release.js');
    const help = await runCli(['release', '--help']);
    const flat = help.stdout.replace(/\s+/g, ' ');
    for (const k of SKIPPABLE) expect(flat).toContain(`${k} (${SKIP_EFFECTS[k]})`);
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const listed = /`--skip LIST` \(`([a-z,]+)`/.exec(readme)?.[1]?.split(',');
    expect(listed).toEqual([...SKIPPABLE]);
  });
  it.each(['announce', 'archive', 'before', 'changelog', 'docker', 'publish', 'sign', 'validate'])('--skip %s is accepted', async (value) => {
    const r = await movedAndDirty();
    const res = await runCli(['release', '--snapshot', '--skip', value], { cwd: r.dir });
    expect(res.code, res.stderr).toBe(0);
  }, 60_000);
});
