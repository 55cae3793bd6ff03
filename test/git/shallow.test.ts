import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGitInfo } from '../../src/git/index.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * A CI checkout with the default depth of 1 has the tag's commit but not its
 * history: the previous tag must not be guessed from what happens to be there.
 */
let origin: TempRepo;
let work: string;
const CONFIG = 'project_name: shallow\nrelease:\n  github: { owner: acme, name: shallow }\n';

let clones = 0;
/** What a CI checkout of a pushed tag does: a clone of that tag with a limited depth. */
async function clone(depth: number): Promise<string> {
  const dir = join(work, `clone-${++clones}`);
  await execa('git', ['clone', '-q', '--depth', String(depth), '--branch', 'v1.1.0', `file://${origin.dir}`, dir]);
  return dir;
}

beforeAll(async () => {
  origin = await TempRepo.create({ 'relsign.config.yaml': CONFIG });
  await origin.commit('first');
  await origin.tag('v1.0.0');
  await origin.commit('feat: second');
  await origin.commit('fix: third');
  await origin.tag('v1.1.0');
  work = await mkdtemp(join(tmpdir(), 'relsign-shallow-'));
});
afterAll(async () => {
  await origin?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('shallow clones', () => {
  it('a full clone finds the previous tag and is not shallow', async () => {
    const info = await readGitInfo({ cwd: origin.dir, env: {}, snapshot: false });
    expect(info.shallow).toBe(false);
    expect(info.previousTag).toBe('v1.0.0');
  });

  it('a depth-1 clone is detected and its previous tag is left unknown, not guessed', async () => {
    const dir = await clone(1);
    const info = await readGitInfo({ cwd: dir, env: {}, snapshot: false });
    expect(info.shallow).toBe(true);
    expect(info.tag).toBe('v1.1.0');
    expect(info.previousTag).toBe('');
    const pinned = await readGitInfo({ cwd: dir, env: { RELSIGN_PREVIOUS_TAG: 'v1.0.0' }, snapshot: false });
    expect(pinned.previousTag).toBe('v1.0.0');
  });

  it('a release from a shallow clone stops at the changelog with one line naming fetch-depth: 0', async () => {
    const dir = await clone(1);
    const r = await runCli(['release', '--skip', 'publish'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/⚠ git: shallow clone, previous tag unknown; .*fetch-depth: 0/);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('relsign: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/changelog: the repository is a shallow clone, so the previous tag is unknown; .*fetch-depth: 0/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('with RELSIGN_PREVIOUS_TAG the shallow release uses that tag (after fetching it)', async () => {
    const dir = await clone(3);
    await execa('git', ['fetch', '-q', 'origin', 'tag', 'v1.0.0'], { cwd: dir });
    const r = await runCli(['release', '--skip', 'publish'], { cwd: dir, env: { RELSIGN_PREVIOUS_TAG: 'v1.0.0' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/shallow clone, previous tag v1\.0\.0 \(from RELSIGN_PREVIOUS_TAG\)/);
  });

  it('a snapshot from a shallow clone warns and still runs', async () => {
    const dir = await clone(1);
    const r = await runCli(['release', '--snapshot'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/shallow clone.*fetch-depth: 0/);
  });
});
