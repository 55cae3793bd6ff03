#!/usr/bin/env node
// The signs stage's cost model, measured:
//   (a) signer: builtin — the stage signs in-process: one key decryption, files hashed and signed concurrently;
//   (b) signer: cmd running `relsign sign-blob` once per artifact — GoReleaser + cosign's model:
//       a process start and a key decryption (scrypt) per artifact;
//   baseline: `sha256sum` over the same files, plus the time of one key decryption.
// Two sets: 100 files of 1 MB, and 5 files of 200 MB.
// Usage: npm run build && node bench/signs-bench.mjs [--runs 3]
// Data goes to bench/.data/signs (gitignored) and is reused.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, writeSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = (p) => join(root, 'lib', p);
if (!existsSync(lib('stages/sign/index.js'))) {
  console.error('bench: lib/ is missing; run `npm run build` first');
  process.exit(1);
}
const { signStage } = await import(lib('stages/sign/index.js'));
const { createContext } = await import(lib('pipeline/context.js'));
const { applyDefaults } = await import(lib('config/defaults.js'));
const { Logger } = await import(lib('pipeline/logger.js'));
const { generateKeyPair, decryptPrivateKeyPem } = await import(lib('sigstore/index.js'));
const { Writable } = await import('node:stream');

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const PASSWORD = 'bench-password';
const data = join(root, 'bench/.data/signs');
mkdirSync(data, { recursive: true });

function makeSet(name, count, bytes) {
  const dir = join(data, name);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const f = join(dir, `artifact-${String(i).padStart(3, '0')}.bin`);
    if (existsSync(f) && statSync(f).size === bytes) continue;
    const fd = openSync(f, 'w');
    const chunk = randomBytes(Math.min(bytes, 1 << 20));
    for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done));
    closeSync(fd);
  }
  return dir;
}

const keyPath = join(data, 'cosign.key');
if (!existsSync(keyPath)) {
  const pems = await generateKeyPair(PASSWORD);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(keyPath, pems.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(data, 'cosign.pub'), pems.publicKeyPem);
}
const keyPem = (await import('node:fs')).readFileSync(keyPath, 'utf8');

const silent = new Writable({ write: (_c, _e, cb) => cb() });
const clean = (dir) => {
  for (const f of readdirSync(dir)) if (f.endsWith('.sig')) rmSync(join(dir, f));
};
const files = (dir) => readdirSync(dir).filter((f) => f.endsWith('.bin')).sort();

async function builtin(dir) {
  clean(dir);
  const config = applyDefaults({ dist: dir, signs: [{ signer: 'builtin', key: keyPath, artifacts: 'all' }] }, { projectName: 'bench' });
  const ctx = createContext({
    cwd: dir,
    config,
    log: new Logger({ stream: silent }),
    env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
    options: { parallelism: availableParallelism() },
  });
  for (const f of files(dir)) ctx.artifacts.add({ type: 'archive', name: f, path: join(dir, f) });
  const t = performance.now();
  await signStage.run(ctx);
  return performance.now() - t;
}

function perProcess(dir) {
  clean(dir);
  const t = performance.now();
  for (const f of files(dir)) {
    execFileSync(process.execPath, [join(root, 'bin/relsign.js'), 'sign-blob', '--key', keyPath, '--output-signature', join(dir, `${f}.sig`), '--tlog-upload=false', '--yes', join(dir, f)], {
      env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
      stdio: 'ignore',
    });
  }
  return performance.now() - t;
}

function sha256sum(dir) {
  const t = performance.now();
  execFileSync('sha256sum', files(dir), { cwd: dir, stdio: 'ignore' });
  return performance.now() - t;
}

async function decryptOnce() {
  const t = performance.now();
  await decryptPrivateKeyPem(keyPem, PASSWORD);
  return performance.now() - t;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(0).padStart(7)} ms`;
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, median of ${RUNS} runs`);

for (const [label, count, bytes, cmdRuns] of [
  ['100 × 1 MB', 100, 1_000_000, RUNS],
  ['5 × 200 MB', 5, 200_000_000, RUNS],
]) {
  const dir = makeSet(label.replace(/\W+/g, '_'), count, bytes);
  sha256sum(dir); // warm the page cache
  const r = { builtin: [], cmd: [], sum: [], dec: [] };
  for (let i = 0; i < RUNS; i++) {
    r.builtin.push(await builtin(dir));
    r.sum.push(sha256sum(dir));
    r.dec.push(await decryptOnce());
  }
  for (let i = 0; i < cmdRuns; i++) r.cmd.push(perProcess(dir));
  const b = median(r.builtin);
  const base = median(r.sum) + median(r.dec);
  const c = median(r.cmd);
  console.log(`\n${label}`);
  console.log(`  sha256sum + one key decryption  ${fmt(base)}   (sha256sum ${fmt(median(r.sum)).trim()}, decrypt ${fmt(median(r.dec)).trim()})`);
  console.log(`  (a) builtin signer (stage)      ${fmt(b)}   ${(b / base).toFixed(2)}× baseline (goal ≤ 1.3×)`);
  console.log(`  (b) cmd: sign-blob per artifact ${fmt(c)}   ${(c / b).toFixed(1)}× slower than builtin${count === 100 ? ' (goal ≥ 10×)' : ''}`);
}
