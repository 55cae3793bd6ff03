import { createHash } from 'node:crypto';
import { lstat, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RelsignConfig } from '../config/types.js';
import { RelsignError, UsageError } from '../util/errors.js';
import { hashFile, isWithin, realLocation } from '../util/fs.js';
import { OCI_MANIFEST } from '../oci/types.js';
import type { Artifact, ArtifactType } from './artifacts.js';

/** File written at the top of every split part: what the part is and which files it holds. */
export const PART_FILE = 'context.json';
/** Format of context.json; a merge refuses parts written in another format. */
export const PART_FORMAT = 'relsign-split/1';
/** Most parts a merge reads (a GitHub matrix holds at most 256 jobs). */
export const MAX_PARTS = 256;
/** Largest context.json a merge reads. */
export const MAX_PART_FILE_BYTES = 4 << 20;
/** Most artifacts one part may list. */
export const MAX_PART_ARTIFACTS = 10_000;
/** Names a split id may take: it becomes a folder under dist. */
const SPLIT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Artifact types a part carries: what build and archive produce. */
const PART_TYPES: readonly ArtifactType[] = ['binary', 'uploadable_binary', 'archive'];

/** How `release --split` chooses its targets. */
export type SplitSelection =
  | { by: 'os'; os: string }
  | { by: 'targets'; targets: string[] }
  | { by: 'shard'; index: number; count: number };

/** One artifact as recorded in context.json: paths relative to the part's folder. */
export interface PartArtifact {
  type: ArtifactType;
  name: string;
  path: string;
  sha256: string;
  size: number;
  id?: string;
  os?: string;
  arch?: string;
  arm?: string;
  target?: string;
  extra?: Record<string, unknown>;
}

/** One platform of an image a split built: its manifest as pushed (or written to the part's layout). */
export interface PartImagePlatform {
  /** As in the config, e.g. `linux/arm64`. */
  platform: string;
  digest: string;
  size: number;
  media_type: string;
}

/** An image a split built some platforms of. */
export interface PartImage {
  /** `images[].id`. */
  id: string;
  /** Pushed by digest (no tags) to `repositories`, or written to `layout` only (--snapshot, push: false). */
  pushed: boolean;
  repositories: string[];
  platforms: PartImagePlatform[];
  /** The part's OCI layout (relative to the part), for snapshot splits. */
  layout?: string;
}

export interface PartContext {
  format: string;
  split_id: string;
  project_name: string;
  tag: string;
  commit: string;
  version: string;
  config_digest: string;
  targets: string[];
  artifacts: PartArtifact[];
  /** Images whose platforms this part built (absent: none). */
  images?: PartImage[];
}

/** GOOS name of the machine we run on (what `RELSIGN_SPLIT_BY=os` matches). */
export function runnerOs(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'windows' : platform === 'sunos' ? 'solaris' : platform;
}

/** Every configured target, once, sorted: the set a merge must see covered exactly once. */
export function allTargets(config: RelsignConfig): string[] {
  return [...new Set(config.builds.flatMap((b) => b.targets))].sort();
}

/** Parses `--shard 2/5` (1-based). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard: expected N/M with 1 ≤ N ≤ M (e.g. 2/5), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/**
 * The targets a split builds. Shards deal the sorted target list round-robin,
 * so every runner computes the same partition from the same config.
 */
export function selectTargets(config: RelsignConfig, sel: SplitSelection): string[] {
  const all = allTargets(config);
  if (sel.by === 'os') return all.filter((t) => t.split('_')[0] === sel.os);
  if (sel.by === 'shard') return all.filter((_, i) => i % sel.count === sel.index - 1);
  const unknown = sel.targets.filter((t) => !all.includes(t));
  if (unknown.length > 0) {
    throw new UsageError(`--targets: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not configured in builds[].targets (configured: ${all.join(', ')})`);
  }
  return [...new Set(sel.targets)].sort();
}

/** The folder name of a split under dist: `--split-id`, else derived from the selection. */
export function splitId(sel: SplitSelection, given?: string): string {
  const id = given ?? (sel.by === 'os' ? sel.os : sel.by === 'shard' ? `shard-${sel.index}-of-${sel.count}` : sel.targets.slice().sort().join('-'));
  if (!SPLIT_ID.test(id)) {
    throw new UsageError(`--split-id: ${JSON.stringify(id.slice(0, 80))} is not a usable folder name (letters, digits, . _ -; at most 64)`);
  }
  return id;
}

/**
 * sha256 of the effective config (after defaults, before any template is
 * rendered), with keys sorted. Only the digest leaves the machine, never the
 * config, so literal secrets in it are not exposed; templates such as
 * `{{ .Env.TOKEN }}` are digested as written, so split and merge jobs with
 * different environments agree.
 */
export function configDigest(config: RelsignConfig): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}

function canonicalJson(value: unknown, depth = 0): string {
  if (depth > 64) throw new RelsignError('config: nested too deeply to digest');
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && typeof v !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Records a part's artifacts, with each file's size and sha256 (streamed), relative to the part folder. */
export async function describePart(partDir: string, cwd: string, artifacts: readonly Artifact[]): Promise<PartArtifact[]> {
  const out: PartArtifact[] = [];
  for (const a of artifacts) {
    if (!PART_TYPES.includes(a.type)) continue;
    const abs = join(cwd, a.path);
    if (!isWithin(partDir, abs)) throw new RelsignError(`split: artifact ${a.name} (${a.path}) is outside the split folder ${partDir}`);
    const rel = abs.slice(partDir.length + 1).split('\\').join('/');
    const st = await lstat(abs);
    out.push({
      type: a.type,
      name: a.name,
      path: rel,
      sha256: await hashFile(abs),
      size: st.size,
      ...(a.id !== undefined ? { id: a.id } : {}),
      ...(a.os !== undefined ? { os: a.os } : {}),
      ...(a.arch !== undefined ? { arch: a.arch } : {}),
      ...(a.arm !== undefined ? { arm: a.arm } : {}),
      ...(a.target !== undefined ? { target: a.target } : {}),
      ...(Object.keys(a.extra).length > 0 ? { extra: plainExtra(a.extra) } : {}),
    });
  }
  return out;
}

function plainExtra(extra: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(extra).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)));
}

/** A part as read back by a merge, its files checked. */
export interface LoadedPart {
  dir: string;
  /** `dist/<split-id>` as shown in messages. */
  shown: string;
  context: PartContext;
}

/**
 * Reads every `dist/<part>/context.json` and checks each one as hostile
 * input: bounded size and count, the expected shape, every path a plain
 * relative path that stays inside its part (symlinks resolved), every file's
 * size and sha256 as recorded. Then checks the parts against each other and
 * the config: same tag, commit, version and config digest, and every
 * configured target done by exactly one part.
 */
export async function loadParts(opts: {
  distDir: string;
  distShown: string;
  expected: { tag: string; commit: string; digest: string; targets: readonly string[] };
}): Promise<LoadedPart[]> {
  const { distDir, distShown, expected } = opts;
  let entries: string[];
  try {
    entries = (await readdir(distDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    throw new RelsignError(`continue --merge: ${distShown}/ does not exist; download the split parts into it first`);
  }
  const parts: LoadedPart[] = [];
  for (const name of entries) {
    const file = join(distDir, name, PART_FILE);
    const st = await lstat(file).catch(() => undefined);
    if (!st) continue;
    if (parts.length >= MAX_PARTS) throw new RelsignError(`continue --merge: more than ${MAX_PARTS} parts in ${distShown}/`);
    const shown = `${distShown}/${name}/${PART_FILE}`;
    if (!st.isFile()) throw new RelsignError(`continue --merge: ${shown} is not a regular file`);
    if (st.size > MAX_PART_FILE_BYTES) throw new RelsignError(`continue --merge: ${shown} is larger than ${MAX_PART_FILE_BYTES} bytes`);
    const context = parsePart(await readBounded(file, MAX_PART_FILE_BYTES), shown);
    parts.push({ dir: join(distDir, name), shown: `${distShown}/${name}`, context });
  }
  if (parts.length === 0) throw new RelsignError(`continue --merge: no split parts (${distShown}/*/${PART_FILE}) found; run \`relsign release --split\` on each runner and download their dist/ folders here`);

  for (const p of parts) {
    const c = p.context;
    const problems: string[] = [];
    if (c.tag !== expected.tag) problems.push(`tag ${c.tag}, but this checkout is at ${expected.tag}`);
    if (c.commit !== expected.commit) problems.push(`commit ${c.commit.slice(0, 12)}, but this checkout is at ${expected.commit.slice(0, 12)}`);
    if (c.config_digest !== expected.digest) problems.push('a different config (config digest differs)');
    if (problems.length > 0) throw new RelsignError(`continue --merge: part ${p.shown} was built from ${problems.join('; ')}; refusing to merge`);
  }
  const versions = new Set(parts.map((p) => p.context.version));
  if (versions.size > 1) throw new RelsignError(`continue --merge: parts disagree on the version (${[...versions].join(', ')}); refusing to merge`);

  const doneBy = new Map<string, string>();
  for (const p of parts) {
    for (const t of p.context.targets) {
      const other = doneBy.get(t);
      if (other) throw new RelsignError(`continue --merge: target ${t} was built by two parts (${other} and ${p.shown}); refusing to merge`);
      if (!expected.targets.includes(t)) throw new RelsignError(`continue --merge: part ${p.shown} built ${t}, which the config does not list; refusing to merge`);
      doneBy.set(t, p.shown);
    }
  }
  const missing = expected.targets.filter((t) => !doneBy.has(t));
  if (missing.length > 0) throw new RelsignError(`continue --merge: no part built ${missing.join(', ')}; refusing to merge an incomplete release`);

  for (const p of parts) await verifyPartFiles(p);
  return parts;
}

async function readBounded(file: string, max: number): Promise<string> {
  return (await readBoundedBytes(file, max)).toString('utf8');
}

/** A file's bytes, refusing one larger than `max` (it may grow while read). */
export async function readBoundedBytes(file: string, max: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max) throw new RelsignError(`continue --merge: ${file} is larger than ${max} bytes`);
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const TARGET = /^[A-Za-z0-9]{1,32}_[A-Za-z0-9]{1,32}(?:_[A-Za-z0-9]{1,32})?$/;

function parsePart(text: string, shown: string): PartContext {
  const bad = (what: string): never => {
    throw new RelsignError(`continue --merge: ${shown}: ${what}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad('not valid JSON');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return bad('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.format !== PART_FORMAT) bad(`format is ${JSON.stringify(String(o.format)).slice(0, 80)}, expected ${PART_FORMAT}`);
  for (const k of ['split_id', 'project_name', 'tag', 'commit', 'version', 'config_digest'] as const) {
    if (typeof o[k] !== 'string' || (o[k] as string).length > 1024) bad(`${k} must be a string`);
  }
  if (!Array.isArray(o.targets) || o.targets.length > 1024 || !o.targets.every((t) => typeof t === 'string' && TARGET.test(t))) {
    bad('targets must be a list of targets such as linux_amd64');
  }
  if (!Array.isArray(o.artifacts) || o.artifacts.length > MAX_PART_ARTIFACTS) bad(`artifacts must be a list of at most ${MAX_PART_ARTIFACTS}`);
  const artifacts = (o.artifacts as unknown[]).map((a, i) => parseArtifact(a, `${shown}: artifacts[${i}]`));
  let images: PartImage[] | undefined;
  if (o.images !== undefined) {
    if (!Array.isArray(o.images) || o.images.length > MAX_PART_IMAGES) bad(`images must be a list of at most ${MAX_PART_IMAGES}`);
    images = (o.images as unknown[]).map((im, i) => parseImage(im, `${shown}: images[${i}]`));
    const ids = images.map((im) => im.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup !== undefined) bad(`image ${dup} is listed twice`);
  }
  const { images: _raw, ...rest } = o as unknown as PartContext;
  return { ...rest, targets: [...(o.targets as string[])], artifacts, ...(images ? { images } : {}) };
}

function parseArtifact(a: unknown, where: string): PartArtifact {
  const bad = (what: string): never => {
    throw new RelsignError(`continue --merge: ${where}: ${what}`);
  };
  if (!a || typeof a !== 'object' || Array.isArray(a)) return bad('not an object');
  const o = a as Record<string, unknown>;
  if (typeof o.type !== 'string' || !PART_TYPES.includes(o.type as ArtifactType)) bad(`type must be one of ${PART_TYPES.join(', ')}`);
  if (typeof o.name !== 'string' || !/^[^/\\\0]{1,255}$/.test(o.name) || o.name === '.' || o.name === '..') bad('name must be a plain file name');
  if (typeof o.path !== 'string' || !safeRelative(o.path)) bad(`path ${JSON.stringify(String(o.path).slice(0, 200))} must be a relative path inside its part`);
  if (typeof o.sha256 !== 'string' || !HEX64.test(o.sha256)) bad('sha256 must be 64 hex digits');
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) bad('size must be a whole number');
  for (const k of ['id', 'os', 'arch', 'arm', 'target'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || (o[k] as string).length > 256)) bad(`${k} must be a string`);
  }
  const extra: Record<string, unknown> = {};
  if (o.extra !== undefined) {
    if (!o.extra || typeof o.extra !== 'object' || Array.isArray(o.extra)) bad('extra must be an object');
    for (const [k, v] of Object.entries(o.extra as Record<string, unknown>).slice(0, 64)) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      if (['string', 'number', 'boolean'].includes(typeof v) && String(v).length <= 4096) extra[k] = v;
    }
  }
  return {
    type: o.type as ArtifactType,
    name: o.name as string,
    path: o.path as string,
    sha256: o.sha256 as string,
    size: o.size as number,
    ...(o.id !== undefined ? { id: o.id as string } : {}),
    ...(o.os !== undefined ? { os: o.os as string } : {}),
    ...(o.arch !== undefined ? { arch: o.arch as string } : {}),
    ...(o.arm !== undefined ? { arm: o.arm as string } : {}),
    ...(o.target !== undefined ? { target: o.target as string } : {}),
    extra,
  };
}

const IMAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PLATFORM = /^[a-z0-9]{1,16}\/[a-z0-9]{1,16}(?:\/[a-z0-9]{1,16})?$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Media types a split's platform manifest may have: what relsign writes. */
const MANIFEST_TYPES: readonly string[] = [OCI_MANIFEST];
/** Most images one part may list, and platforms and repositories per image. */
export const MAX_PART_IMAGES = 256;
const MAX_IMAGE_PLATFORMS = 64;
const MAX_IMAGE_REPOSITORIES = 64;

function parseImage(im: unknown, where: string): PartImage {
  const bad = (what: string): never => {
    throw new RelsignError(`continue --merge: ${where}: ${what}`);
  };
  if (!im || typeof im !== 'object' || Array.isArray(im)) return bad('not an object');
  const o = im as Record<string, unknown>;
  if (typeof o.id !== 'string' || !IMAGE_ID.test(o.id)) bad('id must be an image id (letters, digits, . _ -)');
  if (typeof o.pushed !== 'boolean') bad('pushed must be true or false');
  if (!Array.isArray(o.repositories) || o.repositories.length > MAX_IMAGE_REPOSITORIES || !o.repositories.every((r) => typeof r === 'string' && r.length > 0 && r.length <= 512)) {
    bad(`repositories must be a list of at most ${MAX_IMAGE_REPOSITORIES} repositories`);
  }
  if (!Array.isArray(o.platforms) || o.platforms.length === 0 || o.platforms.length > MAX_IMAGE_PLATFORMS) bad(`platforms must be a list of 1 to ${MAX_IMAGE_PLATFORMS}`);
  const platforms = (o.platforms as unknown[]).map((p, j): PartImagePlatform => {
    const w = (what: string): never => bad(`platforms[${j}]: ${what}`);
    if (!p || typeof p !== 'object' || Array.isArray(p)) return w('not an object');
    const q = p as Record<string, unknown>;
    if (typeof q.platform !== 'string' || !PLATFORM.test(q.platform)) w('platform must be os/arch[/variant], e.g. linux/arm64');
    if (typeof q.digest !== 'string' || !SHA256_DIGEST.test(q.digest)) w(`digest ${JSON.stringify(String(q.digest).slice(0, 80))} is not a sha256 digest`);
    if (typeof q.size !== 'number' || !Number.isSafeInteger(q.size) || q.size <= 0 || q.size > MAX_PART_FILE_BYTES) w('size must be a whole number of bytes');
    if (typeof q.media_type !== 'string' || !MANIFEST_TYPES.includes(q.media_type)) w(`media_type must be ${MANIFEST_TYPES.join(' or ')}`);
    return { platform: q.platform as string, digest: q.digest as string, size: q.size as number, media_type: q.media_type as string };
  });
  const names = platforms.map((p) => p.platform);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) bad(`platform ${dup} is listed twice`);
  if (o.layout !== undefined && (typeof o.layout !== 'string' || !safeRelative(o.layout))) bad(`layout ${JSON.stringify(String(o.layout).slice(0, 200))} must be a relative path inside its part`);
  return {
    id: o.id as string,
    pushed: o.pushed as boolean,
    repositories: [...(o.repositories as string[])],
    platforms,
    ...(o.layout !== undefined ? { layout: o.layout as string } : {}),
  };
}

/** `a/b/c`: forward slashes, no empty, `.` or `..` segment, not absolute, no drive or NUL. */
function safeRelative(p: string): boolean {
  if (p.length === 0 || p.length > 1024 || p.includes('\\') || p.includes('\0') || p.startsWith('/') || /^[A-Za-z]:/.test(p)) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

async function verifyPartFiles(p: LoadedPart): Promise<void> {
  const realPart = await realLocation(p.dir);
  for (const a of p.context.artifacts) {
    const shown = `${p.shown}/${a.path}`;
    const abs = join(p.dir, ...a.path.split('/'));
    const real = await realLocation(abs).catch(() => undefined);
    if (!real || !isWithin(realPart, real)) throw new RelsignError(`continue --merge: ${shown} resolves outside its part; refusing to merge`);
    const st = await lstat(real).catch(() => undefined);
    if (!st) throw new RelsignError(`continue --merge: ${shown} is listed in ${PART_FILE} but missing; refusing to merge`);
    if (!st.isFile()) throw new RelsignError(`continue --merge: ${shown} is not a regular file; refusing to merge`);
    if (st.size !== a.size || (await hashFile(real)) !== a.sha256) {
      throw new RelsignError(`continue --merge: ${shown} does not match the sha256 recorded in ${p.shown}/${PART_FILE} (changed after the split); refusing to merge`);
    }
  }
}

/** Most entries `clearMergeOutputs` looks at: a merge's outputs are a few files per artifact. */
const MAX_CLEAR_ENTRIES = 100_000;

/**
 * Removes what an earlier merge in this folder wrote (checksums, signatures,
 * source archive, metadata, image layouts), so that a re-run starts from the
 * parts alone, as a re-run of the CI merge job does: every top-level entry of
 * dist that is not a part, and every file in a part that its context.json
 * does not list. Called only after every part passed its checks.
 */
export async function clearMergeOutputs(distDir: string, parts: readonly LoadedPart[]): Promise<number> {
  const partDirs = new Set(parts.map((p) => p.dir));
  let removed = 0;
  let seen = 0;
  const count = () => {
    if (++seen > MAX_CLEAR_ENTRIES) throw new RelsignError(`continue --merge: more than ${MAX_CLEAR_ENTRIES} files in the dist folder`);
  };
  for (const e of await readdir(distDir, { withFileTypes: true })) {
    count();
    const abs = join(distDir, e.name);
    if (e.isDirectory() && partDirs.has(abs)) continue;
    await rm(abs, { recursive: true, force: true });
    removed++;
  }
  for (const p of parts) {
    const keep = new Set([PART_FILE, ...p.context.artifacts.map((a) => a.path)]);
    // A snapshot split's image layouts: the merge reads their blobs.
    const layouts = (p.context.images ?? []).flatMap((im) => (im.layout !== undefined ? [`${im.layout}/`] : []));
    const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
      if (depth > 32) return;
      for (const e of await readdir(dir, { withFileTypes: true })) {
        count();
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(join(dir, e.name), r, depth + 1);
        else if (!keep.has(r) && !layouts.some((l) => r.startsWith(l))) {
          await rm(join(dir, e.name), { force: true });
          removed++;
        }
      }
    };
    await walk(p.dir, '', 0);
  }
  return removed;
}
