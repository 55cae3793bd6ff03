#!/usr/bin/env node
// Writes relsign's standalone bundle: a reproducible .tar.gz holding the CLI
// (bin/, lib/ without source maps, schema/, docs/, LICENSE, README.md,
// package.json) and exactly the runtime dependencies from package-lock.json,
// under `relsign-<version>/`. Unpacked anywhere, it runs with Node alone:
//   tar xzf relsign-X-node.tar.gz && node relsign-X/bin/relsign.js --version
//
// Usage: node scripts/standalone.mjs OUTPUT   (relsign's build sets RELSIGN_OUTPUT)
// SOURCE_DATE_EPOCH fixes every entry's mtime (relsign passes the commit time).
import { createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import archiver from 'archiver';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_FILES = 50_000;

/**
 * The lock-file paths of every package the runtime `dependencies` need,
 * resolved as Node does (nearest node_modules first), optional ones included
 * when installed; peer and dev packages are not followed.
 */
export function runtimeClosure(lock, rootDeps) {
  const packages = lock.packages ?? {};
  const found = new Set();
  const queue = Object.keys(rootDeps).map((name) => ({ name, from: '' }));
  while (queue.length > 0) {
    if (found.size > 5000) throw new Error('package-lock.json: more than 5000 runtime packages');
    const { name, from } = queue.shift();
    let path;
    for (let base = from; ; base = base.includes('/node_modules/') ? base.slice(0, base.lastIndexOf('/node_modules/')) : '') {
      const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (packages[candidate]) {
        path = candidate;
        break;
      }
      if (!base) break;
    }
    if (!path) continue; // an optional dependency not installed for this platform
    if (found.has(path)) continue;
    found.add(path);
    const entry = packages[path];
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) queue.push({ name: dep, from: path });
  }
  return [...found].sort();
}

async function walk(dir, rel, out) {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = posix.join(dir, e.name);
    if (e.isDirectory()) {
      if (rel(path, true)) await walk(path, rel, out);
    } else if (e.isFile() && rel(path, false)) {
      out.push(path);
      if (out.length > MAX_FILES) throw new Error(`more than ${MAX_FILES} files to bundle`);
    }
    // Symlinks (node_modules/.bin) are left out: the bundle is run through bin/relsign.js.
  }
}

async function main() {
  const output = process.argv[2] ?? process.env.RELSIGN_OUTPUT;
  if (!output) throw new Error('usage: node scripts/standalone.mjs OUTPUT');
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8'));
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds, got ${process.env.SOURCE_DATE_EPOCH}`);

  const files = ['LICENSE', 'README.md', 'package.json'];
  await walk('bin', () => true, files);
  await walk('lib', (p, isDir) => isDir || !p.endsWith('.map'), files);
  await walk('schema', () => true, files);
  await walk('docs', () => true, files);
  for (const dep of runtimeClosure(lock, pkg.dependencies ?? {})) {
    // A nested node_modules is its own package (also in the closure, or not needed).
    await walk(dep, (p, isDir) => !isDir || !p.endsWith('/node_modules'), files);
  }
  for (const f of files) if (!(await lstat(join(ROOT, f))).isFile()) throw new Error(`${f}: not a file`);

  const prefix = `relsign-${pkg.version}/`;
  const date = new Date(epoch * 1000);
  const tmp = `${output}.tmp-${process.pid}`;
  const archive = archiver('tar', { gzip: true, gzipOptions: { level: 9 } });
  const sink = createWriteStream(tmp, { mode: 0o644 });
  const done = new Promise((ok, fail) => {
    sink.on('close', ok);
    sink.on('error', fail);
    archive.on('error', fail);
  });
  archive.pipe(sink);
  for (const f of files) {
    const st = await lstat(join(ROOT, f));
    // Giving the stats keeps entries in this (sorted) order: archiver's own stat calls run concurrently.
    archive.file(join(ROOT, f), { name: prefix + f, date, mode: st.mode & 0o111 ? 0o755 : 0o644, stats: st });
  }
  await archive.finalize();
  try {
    await done;
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  process.stdout.write(`${output}: ${files.length} files\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`standalone: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
