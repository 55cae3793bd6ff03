import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/github/client.js';
import type { PublishReleaseOptions } from '../../src/github/publish.js';
import { FakeGitHub } from './fake-github.js';

/** A clock whose sleep returns at once and moves time forward. */
export function fakeClock(start = Date.parse('2026-03-01T12:00:00Z')): Clock & { sleeps: number[]; elapsed(): number } {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += Math.max(0, ms);
      await new Promise((r) => setImmediate(r));
    },
    sleeps,
    elapsed: () => t - start,
  };
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'relsign-gh-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes files named `name` with the given content; returns their paths. */
export async function makeFiles(dir: string, files: Record<string, string | Buffer>): Promise<string[]> {
  const paths: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    await writeFile(p, content);
    paths.push(p);
  }
  return paths;
}

export interface Harness {
  fake: FakeGitHub;
  clock: ReturnType<typeof fakeClock>;
  logs: string[];
  options(over?: Partial<PublishReleaseOptions>): PublishReleaseOptions;
}

export async function startHarness(): Promise<Harness> {
  const clock = fakeClock();
  const fake = await new FakeGitHub({ now: clock.now }).start();
  const logs: string[] = [];
  return {
    fake,
    clock,
    logs,
    options: (over = {}) => ({
      owner: fake.owner,
      repo: fake.repo,
      token: fake.token,
      apiUrl: fake.apiUrl,
      tag: 'v1.2.3',
      name: 'v1.2.3',
      body: '## Changelog\n\n* abc1234 first',
      draft: false,
      prerelease: false,
      makeLatest: 'true',
      assets: [],
      concurrency: 4,
      clock,
      retry: { attempts: 5 },
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(`WARN ${m}`) },
      ...over,
    }),
  };
}

/** libsodium, the reference implementation GitHub's docs use for sealed boxes. */
export async function sodium(): Promise<typeof import('libsodium-wrappers')> {
  const mod = (await import('libsodium-wrappers')) as unknown as { default: typeof import('libsodium-wrappers') };
  const s = mod.default ?? (mod as unknown as typeof import('libsodium-wrappers'));
  await s.ready;
  return s;
}
