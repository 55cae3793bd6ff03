#!/usr/bin/env node
// relsign archive/checksum benchmark against the standard tools.
//
//   npm run build && node bench/archive-bench.mjs [--runs N]
//
// Generates (once) under bench/.data/: a ~200 MB tree (half random bytes,
// half log-like text, plus 400 small files) and 1 GiB of "artifacts"
// (8 × 128 MiB random). Then times, median of N runs (default 3):
//   tar.gz  relsign writeArchive   vs  tar -czf (GNU tar → gzip -6)
//   zip     relsign writeArchive   vs  zip -qr -6 (Info-ZIP)
//   zip     archiver 7 (reference: why relsign has its own zip writer)
//   sha256  relsign checksum stage vs  sha256sum over the same files
// and prints the ratios (goal: relsign ≤ 1.15× the baseline).
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const data = join(here, '.data');
const tree = join(data, 'tree');
const arts = join(data, 'artifacts');
const out = join(data, 'out');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;

const { writeArchive } = await import('../lib/stages/archive/writer.js');
const { checksumStage } = await import('../lib/stages/checksum.js');
const { createContext } = await import('../lib/pipeline/context.js');
const { applyDefaults } = await import('../lib/config/defaults.js');
const { Logger } = await import('../lib/pipeline/logger.js');

/** Deterministic pseudo-random bytes (sha256 in counter mode), so every machine benches the same data. */
function prng(seed, size) {
  const buf = Buffer.allocUnsafe(size);
  for (let off = 0, i = 0; off < size; i++) {
    const block = createHash('sha512').update(`${seed}:${i}`).digest();
    off += block.copy(buf, off);
  }
  return buf;
}

function generate() {
  if (!existsSync(join(tree, '.done'))) {
    rmSync(tree, { recursive: true, force: true });
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 40; i++) {
      const d = join(tree, `d${i % 8}`);
      mkdirSync(d, { recursive: true });
      let buf;
      if (i % 2 === 0) buf = prng(`tree${i}`, 5 << 20);
      else {
        const lines = [];
        let n = 0;
        while (n < 5 << 20) {
          const l = `2024-01-02T03:04:${rnd() % 60} INFO request id=${rnd()} path=/api/v${rnd() % 3}/items/${rnd() % 1000} status=${[200, 404, 500][rnd() % 3]} took=${rnd() % 999}ms\n`;
          lines.push(l);
          n += l.length;
        }
        buf = Buffer.from(lines.join(''));
      }
      writeFileSync(join(d, `file${i}.bin`), buf);
    }
    for (let i = 0; i < 400; i++) writeFileSync(join(tree, `d${i % 8}`, `s${i}.txt`), `small file ${i}\n`.repeat((rnd() % 500) + 1));
    writeFileSync(join(tree, '.done'), '');
  }
  if (!existsSync(join(arts, '.done'))) {
    rmSync(arts, { recursive: true, force: true });
    mkdirSync(arts, { recursive: true });
    for (let i = 0; i < 8; i++) writeFileSync(join(arts, `artifact_${i}.tar.gz`), prng(`art${i}`, 128 << 20));
    writeFileSync(join(arts, '.done'), '');
  }
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, f))
    .filter((f) => !f.endsWith('.done') && statSync(f).isFile())
    .sort();
}

function entriesOf(dir) {
  return listFiles(dir).map((src) => ({ src, dst: relative(dir, src), mode: 0o644, mtime: new Date('2024-01-02T03:04:05Z'), owner: '', group: '', stats: statSync(src) }));
}

async function time(fn) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const t = performance.now();
    await fn();
    samples.push((performance.now() - t) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
}

async function archiverZip(target, entries) {
  const archiver = createRequire(import.meta.url)('archiver');
  const a = archiver('zip', { zlib: { level: 6 } });
  const done = pipeline(a, createWriteStream(target));
  for (const e of entries) a.file(e.src, { name: e.dst, mode: e.mode, date: e.mtime, stats: e.stats });
  await Promise.all([a.finalize(), done]);
}

async function relsignChecksums() {
  const config = applyDefaults({ project_name: 'bench', dist: out }, { projectName: 'bench' });
  const ctx = createContext({ cwd: root, config, log: new Logger({ stream: createWriteStream('/dev/null') }), options: { parallelism: cpus().length }, version: '1.0.0' });
  for (const f of listFiles(arts)) ctx.artifacts.add({ type: 'archive', name: relative(arts, f), path: f, id: 'bench' });
  await checksumStage.run(ctx);
}

generate();
const treeBytes = listFiles(tree).reduce((s, f) => s + statSync(f).size, 0);
const artBytes = listFiles(arts).reduce((s, f) => s + statSync(f).size, 0);
const entries = entriesOf(tree);
const load0 = loadavg()[0];
console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average at start ${load0.toFixed(2)}, median of ${runs} runs`);
console.log(`tree: ${entries.length} files, ${(treeBytes / 1e6).toFixed(0)} MB; artifacts: ${listFiles(arts).length} files, ${(artBytes / 2 ** 30).toFixed(2)} GiB\n`);

const rows = [];
const row = (what, ours, base, baseName, ourName = 'relsign') => {
  rows.push({ what, ours, base, baseName });
  console.log(`${what.padEnd(28)} ${ourName.padEnd(8)} ${ours.toFixed(2).padStart(6)} s   ${baseName.padEnd(22)} ${base.toFixed(2).padStart(6)} s   ratio ${(ours / base).toFixed(2)}×${ours / base <= 1.15 ? '' : '  (over 1.15×)'}`);
};

const tgzOurs = await time(() => writeArchive('tar.gz', join(out, 'r.tar.gz'), entries));
const tgzSize = statSync(join(out, 'r.tar.gz')).size;
const tgzBase = await time(() => sh('tar', ['-czf', join(out, 'g.tar.gz'), '-C', tree, '--exclude=.done', '.'], tree));
const tgzBaseSize = statSync(join(out, 'g.tar.gz')).size;
row('tar.gz (gzip -6), 200 MB', tgzOurs, tgzBase, 'tar -czf');

const zipOurs = await time(() => writeArchive('zip', join(out, 'r.zip'), entries));
const zipSize = statSync(join(out, 'r.zip')).size;
const zipBase = await time(() => sh('zip', ['-qr', '-6', join(out, 'g.zip'), '.', '-x', '.done'], tree));
const zipBaseSize = statSync(join(out, 'g.zip')).size;
row('zip (deflate -6), 200 MB', zipOurs, zipBase, 'zip -qr -6');
const zipArchiver = await time(() => archiverZip(join(out, 'a.zip'), entries));
row('zip (reference)', zipArchiver, zipBase, 'zip -qr -6', 'archiver');

const sumOurs = await time(relsignChecksums);
const sumBase = await time(() => sh('sh', ['-c', `sha256sum ${listFiles(arts).map((f) => `'${f}'`).join(' ')} > '${join(out, 'g.txt')}'`], arts));
row('sha256 checksums, 1 GiB', sumOurs, sumBase, 'sha256sum');

console.log(`\nsizes: tar.gz relsign ${tgzSize} vs GNU ${tgzBaseSize} bytes; zip relsign ${zipSize} vs Info-ZIP ${zipBaseSize} bytes`);
console.log(`load average at end ${loadavg()[0].toFixed(2)} (other processes on the machine skew these numbers)`);
try {
  const top = execFileSync('sh', ['-c', "ps -eo pcpu,comm --sort=-pcpu | sed -n '2,4p'"]).toString().trim();
  console.log(`busiest processes now:\n${top}`);
} catch {
  /* ps is optional */
}
rmSync(out, { recursive: true, force: true });
