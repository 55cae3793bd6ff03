import { afterEach, describe, expect, it } from 'vitest';
import { parseSemver, readGitInfo, repoFromUrl, stripCredentials } from '../../src/git/index.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
async function repo(): Promise<TempRepo> {
  const r = await TempRepo.create({ 'README.md': '# x\n' });
  repos.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

const read = (dir: string, snapshot = false, env: Record<string, string> = {}) =>
  readGitInfo({ cwd: dir, env, snapshot });

describe('readGitInfo on real repositories', () => {
  it('reads tag, previous tag, commit, date, branch and remote', async () => {
    const r = await repo();
    await r.commit('first');
    await r.tag('v1.0.0');
    await r.commit('second');
    await r.commit('third');
    const head = await r.git('rev-parse', 'HEAD');
    await r.tag('v1.1.0');
    await r.git('remote', 'add', 'origin', 'https://user:ghp_secret@github.com/acme/widget.git');
    const info = await read(r.dir);
    expect(info.tag).toBe('v1.1.0');
    expect(info.previousTag).toBe('v1.0.0');
    expect(info.fullCommit).toBe(head);
    expect(info.shortCommit).toBe(await r.git('rev-parse', '--short', 'HEAD'));
    expect(info.commitDate.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(info.branch).toBe('main');
    expect(info.dirty).toBe(false);
    expect(info.url).toBe('https://github.com/acme/widget.git');
    expect(info.summary).toBe('v1.1.0');
  });

  it('picks the highest version when several tags point at HEAD', async () => {
    const r = await repo();
    await r.commit('first');
    await r.tag('v1.9.0');
    await r.tag('v1.10.0');
    expect((await read(r.dir)).tag).toBe('v1.10.0');
  });

  it('refuses a HEAD with no tag, unless --snapshot', async () => {
    const r = await repo();
    await r.commit('first');
    await r.tag('v1.0.0');
    await r.commit('untagged');
    await expect(read(r.dir)).rejects.toThrow('no git tag points at HEAD; tag the commit (git tag v1.2.3) or use --snapshot');
    const snap = await read(r.dir, true);
    expect(snap.tag).toBe('v0.0.0');
  });

  it('refuses a dirty tree naming the files, unless --snapshot', async () => {
    const r = await repo();
    await r.commit('first');
    await r.tag('v1.0.0');
    await r.write({ 'README.md': 'changed\n' });
    await expect(read(r.dir)).rejects.toThrow(/^git is in a dirty state \(README\.md\)/);
    const snap = await read(r.dir, true);
    expect(snap.dirty).toBe(true);
    expect(snap.summary).toBe('v1.0.0-dirty');
  });

  it('honours RELSIGN_CURRENT_TAG and checks it is on HEAD', async () => {
    const r = await repo();
    await r.commit('first');
    await r.tag('v1.0.0');
    await r.tag('v2.0.0-rc.1');
    expect((await read(r.dir, false, { RELSIGN_CURRENT_TAG: 'v1.0.0' })).tag).toBe('v1.0.0');
    await r.commit('second');
    await r.tag('v2.0.0');
    await expect(read(r.dir, false, { RELSIGN_CURRENT_TAG: 'v1.0.0' })).rejects.toThrow(/git tag v1\.0\.0 was not made against commit/);
  });

  it('outside a repository: an error, or fake info under --snapshot', async () => {
    const p = await TempRepo.plain({});
    repos.push(p);
    await expect(read(p.dir)).rejects.toThrow(/is not a git repository/);
    expect((await read(p.dir, true)).fullCommit).toBe('none');
  });

  it('a repository with no commits', async () => {
    const r = await repo();
    await expect(read(r.dir)).rejects.toThrow(/no commits yet/);
  });
});

describe('semver and URLs', () => {
  it.each([
    ['v1.2.3', { major: 1, minor: 2, patch: 3, prerelease: '', build: '' }],
    ['1.2.3-rc.1+b5', { major: 1, minor: 2, patch: 3, prerelease: 'rc.1', build: 'b5' }],
    ['v0.10.0-beta', { major: 0, minor: 10, patch: 0, prerelease: 'beta', build: '' }],
  ])('parses %s', (t, want) => expect(parseSemver(t)).toEqual(want));
  it.each(['1.2', 'v01.2.3', 'release-1', 'v1.2.3.4'])('rejects %s', (t) => expect(parseSemver(t)).toBeUndefined());

  it.each([
    ['https://x-access-token:abc@github.com/o/r.git', 'https://github.com/o/r.git'],
    ['git@github.com:o/r.git', 'git@github.com:o/r.git'],
    ['https://github.com/o/r', 'https://github.com/o/r'],
  ])('strips credentials from %s', (u, want) => expect(stripCredentials(u)).toBe(want));

  it.each([
    ['git@github.com:acme/widget.git', { owner: 'acme', name: 'widget' }],
    ['https://github.com/acme/widget', { owner: 'acme', name: 'widget' }],
    ['ssh://git@ghe.corp/team/tool.git/', { owner: 'team', name: 'tool' }],
  ])('repo of %s', (u, want) => expect(repoFromUrl(u)).toEqual(want));
});
