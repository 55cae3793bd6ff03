import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** What `relsign init` found in a project folder. Every probe is bounded: a few files, a few KiB each. */
export interface ProjectInfo {
  dir: string;
  /** Project name: package.json name (scope dropped), Go module / Cargo package name, or the folder name. */
  name: string;
  node?: { bins: string[]; hasLock: boolean; hasPrepare: boolean };
  /** Go `main` packages, as `go build` arguments (`.`, `./cmd/tool`), and the binary name of each. */
  go?: { mains: Array<{ pkg: string; binary: string }> };
  cargo?: { binary: string };
  make?: { target: string };
  dockerfile: boolean;
  /** Files worth packing next to the binaries. */
  extraFiles: string[];
}

const MAX_TEXT = 64 * 1024;
const MAX_GO_FILES = 50;
const MAX_CMD_DIRS = 50;

async function readSmall(path: string, limit = MAX_TEXT): Promise<string | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(st.size, limit));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** A safe file/binary name from arbitrary text (package names, folder names). */
export function safeName(text: string): string {
  const s = text.replace(/^@[^/]+\//, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return s.slice(0, 64) || 'app';
}

async function detectNode(dir: string): Promise<{ name?: string; node?: ProjectInfo['node'] }> {
  const text = await readSmall(join(dir, 'package.json'), 1024 * 1024);
  if (text === undefined) return {};
  let pkg: { name?: unknown; bin?: unknown; scripts?: Record<string, unknown> };
  try {
    pkg = JSON.parse(text) as typeof pkg;
  } catch {
    return {};
  }
  const name = typeof pkg.name === 'string' ? pkg.name : undefined;
  let bins: string[] = [];
  if (typeof pkg.bin === 'string') bins = [name ? safeName(name) : 'app'];
  else if (pkg.bin && typeof pkg.bin === 'object') bins = Object.keys(pkg.bin).slice(0, 20).map(safeName);
  if (bins.length === 0) return { name };
  const hasLock = (await exists(join(dir, 'package-lock.json'))) || (await exists(join(dir, 'npm-shrinkwrap.json')));
  const hasPrepare = typeof pkg.scripts?.prepare === 'string' || typeof pkg.scripts?.build === 'string';
  return { name, node: { bins, hasLock, hasPrepare } };
}

/** True when a folder holds a Go file of `package main` (a few files read, only their first KiB). */
async function hasMainPackage(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let seen = 0;
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.go') || e.name.endsWith('_test.go')) continue;
    if (++seen > MAX_GO_FILES) break;
    const head = await readSmall(join(dir, e.name), 4096);
    if (head && /^package\s+main\b/m.test(head)) return true;
  }
  return false;
}

async function detectGo(dir: string): Promise<{ name?: string; go?: ProjectInfo['go'] }> {
  const mod = await readSmall(join(dir, 'go.mod'));
  if (mod === undefined) return {};
  const modulePath = /^module\s+(\S+)/m.exec(mod)?.[1];
  const moduleName = modulePath ? safeName(modulePath.replace(/\/v\d+$/, '').split('/').pop() ?? '') : undefined;
  const mains: Array<{ pkg: string; binary: string }> = [];
  if (await hasMainPackage(dir)) mains.push({ pkg: '.', binary: moduleName ?? safeName(basename(dir)) });
  const cmdDirs = await readdir(join(dir, 'cmd'), { withFileTypes: true }).catch(() => []);
  for (const e of cmdDirs.filter((d) => d.isDirectory()).slice(0, MAX_CMD_DIRS).sort((a, b) => a.name.localeCompare(b.name))) {
    if (await hasMainPackage(join(dir, 'cmd', e.name))) mains.push({ pkg: `./cmd/${e.name}`, binary: safeName(e.name) });
  }
  return { name: moduleName, go: mains.length > 0 ? { mains } : undefined };
}

async function detectCargo(dir: string): Promise<{ name?: string; cargo?: ProjectInfo['cargo'] }> {
  const toml = await readSmall(join(dir, 'Cargo.toml'));
  if (toml === undefined) return {};
  const pkgName = /\[package\][^[]*?^\s*name\s*=\s*"([^"]+)"/ms.exec(toml)?.[1];
  const binName = /\[\[bin\]\][^[]*?^\s*name\s*=\s*"([^"]+)"/ms.exec(toml)?.[1];
  const hasMain = await exists(join(dir, 'src/main.rs'));
  const binary = binName ?? (hasMain ? pkgName : undefined);
  return { name: pkgName ? safeName(pkgName) : undefined, cargo: binary ? { binary: safeName(binary) } : undefined };
}

async function detectMake(dir: string): Promise<ProjectInfo['make']> {
  const text = (await readSmall(join(dir, 'Makefile'))) ?? (await readSmall(join(dir, 'makefile')));
  if (text === undefined) return undefined;
  for (const target of ['release', 'build', 'all']) {
    if (new RegExp(`^${target}\\s*:`, 'm').test(text)) return { target };
  }
  return undefined;
}

export async function detectProject(dir: string): Promise<ProjectInfo> {
  const [node, go, cargo, make] = await Promise.all([detectNode(dir), detectGo(dir), detectCargo(dir), detectMake(dir)]);
  const extraFiles: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const candidate of ['README.md', 'README', 'LICENSE', 'LICENSE.md', 'LICENSE.txt', 'COPYING', 'NOTICE']) {
    if (names.includes(candidate)) extraFiles.push(candidate);
  }
  const name = safeName(node.name ?? go.name ?? cargo.name ?? basename(dir));
  return {
    dir,
    name,
    ...(node.node ? { node: node.node } : {}),
    ...(go.go ? { go: go.go } : {}),
    ...(cargo.cargo ? { cargo: cargo.cargo } : {}),
    ...(make && !go.go && !cargo.cargo && !node.node ? { make } : {}),
    dockerfile: names.includes('Dockerfile') || names.includes('Containerfile'),
    extraFiles,
  };
}
