#!/usr/bin/env node
// Upload benchmark: publishes one large asset (default 1.5 GiB) to the fake
// GitHub (test/github/fake-github.ts, run in a child process on 127.0.0.1)
// through relsign's publishRelease, and prints peak RSS and throughput.
//
//   node bench/upload-bench.mjs [--size-mib 1536] [--keep]
//
// The TypeScript sources are compiled first (tsc, into node_modules/.cache)
// so the measured process runs plain JS, as the published CLI would.
import { execFileSync, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'node_modules', '.cache', 'relsign-bench');

function compile() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // prettier-ignore
  execFileSync(process.execPath, [tsc,
    '--outDir', outDir, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--skipLibCheck', '--esModuleInterop', '--resolveJsonModule', '--types', 'node',
    '--declaration', 'false', '--sourceMap', 'false', '--noCheck',
    join(root, 'src/github/index.ts'), join(root, 'test/github/fake-github.ts'),
  ], { stdio: 'inherit' });
}

const mod = (p) => import(pathToFileURL(join(outDir, p)).href);

// ---------------------------------------------------------------- child: the fake GitHub
if (process.argv[2] === '--server') {
  const { FakeGitHub } = await mod('test/github/fake-github.js');
  const fake = await new FakeGitHub({ validate: false }).start();
  process.send({ apiUrl: fake.apiUrl, token: fake.token, owner: fake.owner, repo: fake.repo });
  process.on('message', async (m) => {
    if (m === 'state') {
      process.send({
        releases: fake.releases.map((r) => ({ draft: r.draft, assets: r.assets.map((a) => ({ name: a.name, size: a.size, digest: a.digest })) })),
        serverRss: process.resourceUsage().maxRSS * 1024,
      });
    } else if (m === 'close') {
      await fake.close();
      process.exit(0);
    }
  });
} else {
  await main();
}

async function main() {
  const args = process.argv.slice(2);
  const sizeMiB = Number(args[args.indexOf('--size-mib') + 1] ?? 0) || 1536;
  const size = sizeMiB * 1024 * 1024;
  if (!existsSync(join(outDir, 'src/github/index.js')) || !args.includes('--no-compile')) compile();
  const { publishRelease } = await mod('src/github/index.js');

  const dir = await mkdtemp(join(tmpdir(), 'relsign-bench-'));
  const file = join(dir, 'big-asset.tar.gz');
  // Write the file from one reused 16 MiB random block (keeps this process small).
  const block = randomBytes(16 * 1024 * 1024);
  const fh = await open(file, 'w');
  const expected = createHash('sha256');
  for (let written = 0; written < size; ) {
    const chunk = block.subarray(0, Math.min(block.length, size - written));
    await fh.write(chunk);
    expected.update(chunk);
    written += chunk.length;
  }
  await fh.close();
  const expectedDigest = `sha256:${expected.digest('hex')}`;

  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const server = await new Promise((r) => child.once('message', r));
  const ask = (m) => new Promise((r) => { child.once('message', r); child.send(m); });

  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  // Upload time: from the draft's creation to the asset's completion line.
  let uploadStart = 0;
  let uploadEnd = 0;
  const info = (m) => {
    if (m.startsWith('created draft release')) uploadStart = performance.now();
    if (/^\[1\/1\] uploaded /.test(m)) uploadEnd = performance.now();
  };

  const t0 = performance.now();
  const result = await publishRelease({
    owner: server.owner,
    repo: server.repo,
    token: server.token,
    apiUrl: server.apiUrl,
    tag: 'v9.9.9',
    name: 'v9.9.9',
    body: 'bench',
    draft: false,
    prerelease: false,
    assets: [{ path: file }],
    log: { info, warn: (m) => console.error(`warn: ${m}`) },
  });
  const total = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const maxRss = process.resourceUsage().maxRSS * 1024;

  const state = await ask('state');
  child.send('close');
  const stored = state.releases[0]?.assets[0];
  const ok = stored && stored.size === size && stored.digest === expectedDigest && result.assets[0]?.status === 'uploaded';

  const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const uploadSec = (uploadEnd - uploadStart) / 1000;
  console.log(`asset:            ${mib(size)} (${size} bytes)`);
  console.log(`stored intact:    ${ok ? 'yes (size and sha256 digest match)' : 'NO'}`);
  console.log(`upload time:      ${uploadSec.toFixed(2)} s  → ${(size / 1024 / 1024 / uploadSec).toFixed(0)} MiB/s`);
  console.log(`total (hash+api): ${(total / 1000).toFixed(2)} s`);
  console.log(`peak RSS client:  ${mib(maxRss)} (maxRSS), sampled ${mib(peak)}  — goal < 200 MiB`);
  console.log(`RSS before:       ${mib(baseline)} (modules loaded, file written)`);
  console.log(`peak RSS server:  ${mib(state.serverRss)} (fake GitHub child, not counted)`);
  if (!args.includes('--keep')) await rm(dir, { recursive: true, force: true });
  if (!ok || maxRss >= 200 * 1024 * 1024) process.exitCode = 1;
}
