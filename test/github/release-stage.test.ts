import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyDefaults } from '../../src/config/defaults.js';
import type { PublishResult } from '../../src/github/publish.js';
import { createContext } from '../../src/pipeline/context.js';
import { Logger } from '../../src/pipeline/logger.js';
import { createReleaseStage, isPrerelease, resolveRepository } from '../../src/stages/release.js';
import { FakeGitHub } from './fake-github.js';
import { fakeClock, tempDir } from './helpers.js';

let fake: FakeGitHub;
let dir: string;
let cleanup: () => Promise<void>;
let out: string[];

beforeEach(async () => {
  fake = await new FakeGitHub().start();
  ({ dir, cleanup } = await tempDir());
  out = [];
});
afterEach(async () => {
  expect(fake.violations).toEqual([]);
  await fake.close();
  await cleanup();
});

function ctxFor(raw: Record<string, unknown>, init: { tag?: string; env?: Record<string, string>; options?: object; url?: string } = {}) {
  const config = applyDefaults({ github_urls: { api: fake.apiUrl }, ...raw }, { projectName: 'widget' });
  const ctx = createContext({
    cwd: dir,
    config,
    log: new Logger({ stream: { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream }),
    options: { parallelism: 2, ...init.options },
    git: { tag: init.tag ?? 'v1.2.3', previousTag: 'v1.2.2', url: init.url ?? 'git@github.com:acme/widget.git' },
    env: { GITHUB_TOKEN: fake.token, ...init.env },
  });
  const m = /-(.+)$/.exec(ctx.git.tag);
  ctx.semver = { major: 1, minor: 2, patch: 3, prerelease: m?.[1] ?? '', build: '' };
  ctx.releaseNotes = '## Changelog\n\n* abc1234 feat: x\n';
  return ctx;
}

describe('release stage', () => {
  it('publishes artifacts + extra_files with header/footer and make_latest, token redacted', async () => {
    await mkdir(join(dir, 'dist'), { recursive: true });
    await mkdir(join(dir, 'extra'), { recursive: true });
    await writeFile(join(dir, 'dist', 'widget_1.2.3_linux_amd64.tar.gz'), 'archive');
    await writeFile(join(dir, 'dist', 'checksums.txt'), 'sums');
    await writeFile(join(dir, 'dist', 'widget'), 'binary not uploaded');
    await writeFile(join(dir, 'extra', 'NOTICE.txt'), 'notice');
    const ctx = ctxFor({
      release: {
        header: 'Release {{ .Tag }}',
        footer: '**Full diff**: {{ .PreviousTag }}...{{ .Tag }}',
        make_latest: '{{ if .Prerelease }}false{{ else }}true{{ end }}',
        extra_files: ['extra/*.txt'],
      },
    });
    ctx.artifacts.add({ type: 'archive', name: 'widget_1.2.3_linux_amd64.tar.gz', path: 'dist/widget_1.2.3_linux_amd64.tar.gz', id: 'default' });
    ctx.artifacts.add({ type: 'checksum', name: 'checksums.txt', path: 'dist/checksums.txt' });
    ctx.artifacts.add({ type: 'binary', name: 'widget', path: 'dist/widget', id: 'default' });
    let result: PublishResult | undefined;
    const stage = createReleaseStage({ clock: fakeClock(), onResult: (r) => (result = r) });
    expect(stage.skip(ctx)).toBe(false);
    await stage.run(ctx);

    const rel = fake.releases[0]!;
    expect(rel).toMatchObject({ tag_name: 'v1.2.3', name: 'v1.2.3', draft: false, prerelease: false, make_latest: 'true' });
    expect(rel.body).toBe('Release v1.2.3\n## Changelog\n\n* abc1234 feat: x\n\n**Full diff**: v1.2.2...v1.2.3');
    expect(rel.assets.map((a) => a.name).sort()).toEqual(['NOTICE.txt', 'checksums.txt', 'widget_1.2.3_linux_amd64.tar.gz']);
    expect(result!.assets).toHaveLength(3);
    expect(ctx.artifacts.filter({ types: ['file'] }).map((a) => a.name)).toEqual(['NOTICE.txt']);
    expect(ctx.redactor.redact(`token ${fake.token}`)).toBe('token [REDACTED]');
    expect(out.join('')).not.toContain(fake.token);
    expect(out.join('')).toMatch(/published release v1\.2\.3/);
  });

  it('skips under --snapshot, --skip publish and release.disable', () => {
    const stage = createReleaseStage();
    expect(stage.skip(ctxFor({}, { options: { snapshot: true } }))).toMatch(/snapshot/);
    expect(stage.skip(ctxFor({}, { options: { skip: new Set(['publish']) } }))).toBe('--skip publish');
    expect(stage.skip(ctxFor({ release: { disable: true } }))).toBe('release.disable is set');
    expect(stage.skip(ctxFor({ release: { disable: '{{ if .Prerelease }}true{{ end }}' } }, { tag: 'v1.2.3-rc.1' }))).toBe(
      'release.disable is set',
    );
  });

  it('prerelease auto from semver; repository from config, remote, or GITHUB_REPOSITORY', () => {
    expect(isPrerelease(ctxFor({}, { tag: 'v1.2.3-rc.1' }))).toBe(true);
    expect(isPrerelease(ctxFor({}))).toBe(false);
    expect(isPrerelease(ctxFor({ release: { prerelease: true } }))).toBe(true);
    expect(resolveRepository(ctxFor({}))).toEqual({ owner: 'acme', name: 'widget' });
    expect(resolveRepository(ctxFor({ release: { github: { owner: 'o', name: 'n' } } }))).toEqual({ owner: 'o', name: 'n' });
    expect(resolveRepository(ctxFor({}, { url: '', env: { GITHUB_REPOSITORY: 'env-o/env-n' } }))).toEqual({ owner: 'env-o', name: 'env-n' });
    expect(() => resolveRepository(ctxFor({}, { url: '' }))).toThrow(/cannot tell which GitHub repository/);
  });

  it('skip_upload creates and publishes the release without assets', async () => {
    await writeFile(join(dir, 'a.tar.gz'), 'a');
    const ctx = ctxFor({ release: { skip_upload: true } });
    ctx.artifacts.add({ type: 'archive', name: 'a.tar.gz', path: 'a.tar.gz' });
    await createReleaseStage({ clock: fakeClock() }).run(ctx);
    expect(fake.releases[0]).toMatchObject({ draft: false, assets: [] });
    expect(fake.uploads()).toHaveLength(0);
  });
});

describe('changelog → release through the pipeline runner', () => {
  it('a tagged repo publishes with notes from git log; --snapshot writes notes only', async () => {
    const { TempRepo } = await import('../helpers/repo.js');
    const { readGitInfo, parseSemver } = await import('../../src/git/index.js');
    const { runStages } = await import('../../src/pipeline/runner.js');
    const { changelogStage } = await import('../../src/stages/changelog.js');
    const repo = await TempRepo.create();
    try {
      await repo.commit('initial', { 'a.txt': '1', '.gitignore': 'dist/\n*.tar.gz\n' });
      await repo.tag('v1.0.0');
      await repo.commit('feat: shiny', { 'b.txt': '2' });
      await repo.commit('docs: words', { 'c.txt': '3' });
      await repo.tag('v1.1.0');
      await repo.git('remote', 'add', 'origin', 'https://github.com/acme/widget.git');
      await writeFile(join(repo.dir, 'widget.tar.gz'), 'payload');

      const run = async (snapshot: boolean) => {
        const git = await readGitInfo({ cwd: repo.dir, env: {}, snapshot });
        const config = applyDefaults(
          { github_urls: { api: fake.apiUrl }, changelog: { filters: { exclude: ['^docs:'] } }, release: { footer: 'bye' } },
          { projectName: 'widget' },
        );
        const ctx = createContext({
          cwd: repo.dir,
          config,
          log: new Logger({ stream: { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream }),
          options: { snapshot, ...(snapshot ? { skip: new Set(['publish']) } : {}) },
          git,
          env: { GITHUB_TOKEN: fake.token },
        });
        ctx.semver = parseSemver(git.tag)!;
        ctx.artifacts.add({ type: 'archive', name: 'widget.tar.gz', path: 'widget.tar.gz' });
        return runStages(ctx, [changelogStage, createReleaseStage({ clock: fakeClock() })]);
      };

      const snap = await run(true);
      expect(snap.map((t) => [t.name, t.status])).toEqual([
        ['changelog', 'ok'],
        ['release', 'skipped'],
      ]);
      expect(fake.releases).toHaveLength(0);

      const timings = await run(false);
      expect(timings.map((t) => [t.name, t.status])).toEqual([
        ['changelog', 'ok'],
        ['release', 'ok'],
      ]);
      const rel = fake.releases[0]!;
      expect(rel.tag_name).toBe('v1.1.0');
      expect(rel.body).toMatch(/^## Changelog\n\n\* [0-9a-f]{7,} feat: shiny\n\nbye$/);
      expect(rel.assets.map((a) => a.name)).toEqual(['widget.tar.gz']);
    } finally {
      await repo.remove();
    }
  });
});
