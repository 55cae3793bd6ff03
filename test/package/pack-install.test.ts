import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeClosure } from '../../scripts/standalone.mjs';
import { REPO_ROOT } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * What a user gets from `npm i -D relsign`: the `npm pack` tarball, installed
 * into a fresh project with its own git repository, offline. npm resolves it
 * from a lock file made of this repository's lock (runtime entries only), so
 * the tarballs come from the npm cache that `npm ci` filled; a dependency
 * declared only as a devDependency would be missing here and fail the run.
 * The runtime set is the one the standalone bundle ships (scripts/standalone.mjs).
 */
const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; license: string; bin: Record<string, string>; engines: Record<string, string>; dependencies: Record<string, string>;
};
let work: string;
let tarball: string;
let packed: string[];
let consumer: TempRepo;
const offline = { npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

async function sha512(path: string): Promise<string> {
  const h = createHash('sha512');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha512-${h.digest('base64')}`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'relsign-pack-'));
  // lib/ is built by `npm test` before vitest runs; --ignore-scripts skips the rebuild `prepare` would do.
  const r = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO_ROOT, env: offline });
  const info = (JSON.parse(r.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
  tarball = join(work, info.filename);
  packed = info.files.map((f) => f.path).sort();

  consumer = await TempRepo.create({
    'bin/hello.js': '#!/usr/bin/env node\nconsole.log("hello");\n',
    '.gitignore': 'node_modules/\ndist/\n',
  });
  const spec = `file:${tarball}`;
  const lock: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: {}, devDependencies: { relsign: spec } },
    'node_modules/relsign': {
      version: pkg.version, resolved: spec, integrity: await sha512(tarball), dev: true, license: pkg.license,
      dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
    },
  };
  const repoLock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, object> };
  for (const path of runtimeClosure(repoLock, pkg.dependencies)) lock[path] = { ...repoLock.packages[path], dev: true };
  await consumer.write({
    'package.json': JSON.stringify({ name: 'hello-cli', version: '1.0.0', bin: { hello: 'bin/hello.js' }, files: ['bin/'], devDependencies: { relsign: spec } }, null, 2),
    'package-lock.json': JSON.stringify({ name: 'hello-cli', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { ...lock, '': { name: 'hello-cli', version: '1.0.0', devDependencies: { relsign: spec } } } }, null, 2),
  });
  await execa('npm', ['ci', '--offline', '--ignore-scripts'], { cwd: consumer.dir, env: offline });
  await consumer.commit('feat: hello');
}, 240_000);

afterAll(async () => {
  await consumer?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

const npx = (args: string[], env: Record<string, string | undefined> = {}) =>
  execa('npx', ['--offline', 'relsign', ...args], { cwd: consumer.dir, env: { ...offline, COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined, ...env }, reject: false });

describe('the npm package', () => {
  it('carries the CLI, compiled lib, schema, docs, LICENSE and README, and nothing heavy', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/relsign.js', 'lib/index.js', 'lib/index.d.ts', 'lib/cli/main.js', 'schema/relsign.schema.json', 'docs/configuration.md']) {
      expect(packed).toContain(f);
    }
    expect(packed.filter((f) => /^(src|test|fixtures|bench|scripts|node_modules|dist)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  });

  it('every relative link in the README resolves inside the package', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)].map((m) => m[1]!.replace(/^\.\//, ''));
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect(packed, link).toContain(link);
  });

  it('installs offline into a fresh project: npx relsign --version, check and a snapshot release work there', async () => {
    const installed = await readdir(join(consumer.dir, 'node_modules/relsign'));
    expect(installed.sort()).toEqual(['LICENSE', 'README.md', 'bin', 'docs', 'lib', 'package.json', 'schema']);

    const version = await npx(['--version']);
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);

    const init = await npx(['init']);
    expect(init.exitCode, init.stderr).toBe(0);
    // The schema comment the config starts with points at the installed package.
    const config = await readFile(join(consumer.dir, 'relsign.config.yaml'), 'utf8');
    const schemaRef = /\$schema=(\S+)/.exec(config)![1]!;
    await readFile(join(consumer.dir, schemaRef));
    await writeFile(join(consumer.dir, '.gitignore'), 'node_modules/\ndist/\n');
    await consumer.commit('chore: relsign');

    const check = await npx(['check']);
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stdout.trim()).toBe('config is valid');

    const release = await npx(['release', '--snapshot', '--clean']);
    expect(release.exitCode, release.stderr).toBe(0);
    const dist = await readdir(join(consumer.dir, 'dist'));
    const tgz = dist.find((f) => /^hello-cli-0\.0\.0-SNAPSHOT-[0-9a-f]+\.tgz$/.test(f));
    expect(tgz, dist.join(' ')).toBeDefined();
    expect(dist).toContain(`${tgz}.sig`);
    const sums = dist.find((f) => f.endsWith('_checksums.txt'))!;
    await execa('sha256sum', ['-c', '--strict', sums], { cwd: join(consumer.dir, 'dist') });
    const verify = await npx(['verify-blob', '--key', 'dist/relsign-ephemeral.pub', '--insecure-ignore-tlog', '--signature', `dist/${sums}.sig`, `dist/${sums}`]);
    expect(verify.exitCode, verify.stderr).toBe(0);
  });
});
