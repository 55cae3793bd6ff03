/**
 * Template functions: Go's text/template builtins and GoReleaser's FuncMap
 * (internal/tmpl/tmpl.go), with Go's parameter types so that argument
 * count and type errors read like Go's.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { compileUserRegexp } from '../util/re2.js';
import { sprint, sprintf, sprintln } from './fmt.js';
import * as gopath from './gopath.js';
import { formatGoTime } from './gotime.js';
import { title, toLower, toUpper, trimSpace } from './gostrings.js';
import { formatSize, MAX_LIST, MAX_OUTPUT, MAX_READ_FILE } from './limits.js';
import { incMajor, incMinor, incPatch } from './semver.js';
import { byteLength, compareStrings, isNil, isStringMap, isTrue, kindOf, mapGet, mapHas, mapKeys, typeName } from './values.js';

/** Go parameter types: interface{}, string, int, bool, map[string]string, []string. */
export type ParamType = 'any' | 'string' | 'int' | 'bool' | 'strmap' | 'strlist';

export function goTypeName(t: ParamType): string {
  switch (t) {
    case 'any': return 'interface {}';
    case 'strmap': return 'map[string]string';
    case 'strlist': return '[]string';
    default: return t;
  }
}

export interface FuncContext {
  /** The data's `.Env` map (envOrDefault, isEnvSet). */
  readonly env: Record<string, unknown>;
}

export interface FuncSpec {
  readonly params: readonly ParamType[];
  /** Element type of a trailing variadic parameter. */
  readonly variadic?: ParamType;
  readonly fn: (ctx: FuncContext, args: unknown[]) => unknown;
}

const spec = (params: ParamType[], fn: FuncSpec['fn'], variadic?: ParamType): FuncSpec => ({ params, fn, variadic });

// --- Go builtins ----------------------------------------------------------------

type BasicKind = 'bool' | 'number' | 'string' | 'invalid';
function basicKind(v: unknown): BasicKind {
  switch (kindOf(v)) {
    case 'bool': return 'bool';
    case 'int':
    case 'float': return 'number';
    case 'string': return 'string';
    default: return 'invalid';
  }
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function eq(arg1: unknown, rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (!isNil(arg1) && !isNil(arg)) throw new Error(errBadComparison);
    } else if (k1 === 'invalid') {
      if (isNil(arg1) || isNil(arg)) truth = isNil(arg1) && isNil(arg);
      else throw new Error(`non-comparable type ${sprint([arg])}: ${typeName(arg)}`);
    } else if (k1 === 'number') {
      truth = num(arg1) === num(arg);
    } else {
      truth = arg1 === arg;
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new Error(errBadComparisonType);
  if (k1 !== k2) throw new Error(errBadComparison);
  if (k1 === 'bool') throw new Error(errBadComparisonType);
  if (k1 === 'number') return num(a) < num(b);
  return compareStrings(a as string, b as string) < 0;
}

function indexInt(v: unknown, what: string): number {
  if (kindOf(v) !== 'int') {
    if (isNil(v)) throw new Error(`cannot index ${what} with nil`);
    throw new Error(`cannot index ${what} with type ${typeName(v)}`);
  }
  return num(v);
}

function index(item: unknown, indexes: unknown[]): unknown {
  let v = item;
  if (isNil(v)) throw new Error('index of untyped nil');
  for (const i of indexes) {
    switch (kindOf(v)) {
      case 'slice':
      case 'string': {
        const x = indexInt(i, 'slice/array');
        if (typeof v === 'string') {
          const bytes = Buffer.from(v, 'utf8');
          if (x < 0 || x >= bytes.length) throw new Error(`index out of range: ${x}`);
          v = bytes[x];
        } else {
          const arr = v as unknown[];
          if (x < 0 || x >= arr.length) throw new Error(`index out of range: ${x}`);
          v = arr[x];
        }
        break;
      }
      case 'map': {
        const m = v as Record<string, unknown>;
        if (isNil(i)) {
          v = isStringMap(m) ? '' : undefined;
          break;
        }
        if (typeof i !== 'string') throw new Error(`${typeName(i)} is not index type for ${typeName(m)}`);
        // A missing key gives the zero value of the map's element type: "" for string maps like .Env.
        v = mapHas(m, i) ? mapGet(m, i) : isStringMap(m) ? '' : undefined;
        break;
      }
      case 'nil':
        throw new Error('index of nil pointer');
      default:
        throw new Error(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, indexes: unknown[]): unknown {
  if (isNil(item)) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  if (k !== 'string' && k !== 'slice') throw new Error(`can't slice item of type ${typeName(item)}`);
  if (k === 'string' && indexes.length === 3) throw new Error('cannot 3-index slice a string');
  const bytes = typeof item === 'string' ? Buffer.from(item, 'utf8') : undefined;
  const len = bytes ? bytes.length : (item as unknown[]).length;
  const idx = [0, len];
  indexes.forEach((x, i) => {
    const n = indexInt(x, 'slice/array');
    if (n < 0 || n > len) throw new Error(`index out of range: ${n}`);
    idx[i] = n;
  });
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (bytes) return bytes.subarray(idx[0], idx[1]).toString('utf8');
  return (item as unknown[]).slice(idx[0], idx[1]);
}

function length(item: unknown): number {
  switch (kindOf(item)) {
    case 'string': return byteLength(item as string);
    case 'slice': return (item as unknown[]).length;
    case 'map': return mapKeys(item as Record<string, unknown>).length;
    case 'nil': throw new Error('len of nil pointer');
    default: throw new Error(`len of type ${typeName(item)}`);
  }
}

/** Go's evalArgs: one string is used as-is, anything else is fmt.Sprint'ed. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) =>
    c === '\0' ? '\uFFFD' : c === '"' ? '&#34;' : c === "'" ? '&#39;' : c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;',
  );
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\': out += '\\\\'; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case '<': out += '\\u003C'; continue;
      case '>': out += '\\u003E'; continue;
      case '&': out += '\\u0026'; continue;
      case '=': out += '\\u003D'; continue;
    }
    if (cp < 0x20) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (cp >= 0x80 && !/^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** url.QueryEscape / url.PathEscape. */
function urlEscape(s: string, mode: 'query' | 'pathSegment'): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (mode === 'pathSegment' && '$&+:=@'.includes(c)) out += c;
    else if (mode === 'query' && c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const BUILTINS: ReadonlyMap<string, FuncSpec> = new Map<string, FuncSpec>([
  // and/or are evaluated lazily by the executor (Go short-circuits them); the fn is the eager fallback.
  ['and', spec(['any'], (_, a) => a.find((x) => !isTrue(x)) ?? a[a.length - 1], 'any')],
  ['or', spec(['any'], (_, a) => a.find((x) => isTrue(x)) ?? a[a.length - 1], 'any')],
  ['not', spec(['any'], (_, [a]) => !isTrue(a))],
  ['len', spec(['any'], (_, [a]) => length(a))],
  ['index', spec(['any'], (_, [item, ...rest]) => index(item, rest), 'any')],
  ['slice', spec(['any'], (_, [item, ...rest]) => slice(item, rest), 'any')],
  ['print', spec([], (_, a) => sprint(a), 'any')],
  ['printf', spec(['string'], (_, [f, ...a]) => sprintf(f as string, a), 'any')],
  ['println', spec([], (_, a) => sprintln(a), 'any')],
  ['html', spec([], (_, a) => htmlEscape(evalArgs(a)), 'any')],
  ['js', spec([], (_, a) => jsEscape(evalArgs(a)), 'any')],
  ['urlquery', spec([], (_, a) => urlEscape(evalArgs(a), 'query'), 'any')],
  ['call', spec(['any'], (_, [fn, ...a]) => {
    if (typeof fn !== 'function') throw new Error(isNil(fn) ? 'call of nil' : `non-function of type ${typeName(fn)}`);
    return (fn as (...x: unknown[]) => unknown)(...a);
  }, 'any')],
  ['eq', spec(['any'], (_, [a, ...rest]) => eq(a, rest), 'any')],
  ['ne', spec(['any', 'any'], (_, [a, b]) => !eq(a, [b]))],
  ['lt', spec(['any', 'any'], (_, [a, b]) => lt(a, b))],
  ['le', spec(['any', 'any'], (_, [a, b]) => lt(a, b) || eq(a, [b]))],
  ['gt', spec(['any', 'any'], (_, [a, b]) => !(lt(a, b) || eq(a, [b])))],
  ['ge', spec(['any', 'any'], (_, [a, b]) => !lt(a, b))],
]);

// --- GoReleaser functions -----------------------------------------------------

/** strings.ReplaceAll; an empty `old` matches before every rune and at the end. The result size is checked before it is built. */
function replaceAll(s: string, old: string, repl: string): string {
  const parts = old === '' ? Array.from(s) : s.split(old);
  const matches = old === '' ? parts.length + 1 : parts.length - 1;
  if (s.length + matches * (repl.length - old.length) > MAX_OUTPUT) throw new Error(`result is larger than ${formatSize(MAX_OUTPUT)}`);
  if (old === '') return repl + parts.map((c) => c + repl).join('');
  return parts.join(repl);
}

/** strings.Split; an empty separator splits into runes. */
function split(s: string, sep: string): string[] {
  if (sep === '' && s.length > MAX_LIST) throw new Error(`result has more than ${MAX_LIST.toLocaleString('en-US')} elements`);
  return sep === '' ? Array.from(s) : s.split(sep, MAX_LIST + 1);
}

/** filter / reverseFilter: line-wise grep -E / grep -vE. */
function filter(content: string, expr: string, reverse: boolean): string {
  // Go's regexp.MustCompile: RE2 syntax (POSIX classes such as [[:alpha:]] included), linear-time matching.
  const re = compileUserRegexp(expr);
  return content
    .split('\n')
    .filter((line) => re.test(line) !== reverse)
    .join('\n');
}

const MDV2_RE = /[_*[\]()~`>#+\-=|{}.!]/g;
function mdv2escape(s: string): string {
  return s.replace(MDV2_RE, (c) => `\\${c}`);
}

function makeMap(kvs: string[]): Record<string, string> {
  if (kvs.length % 2 !== 0) throw new Error(`map expects even number of arguments, got ${kvs.length}`);
  const m: Record<string, string> = {};
  for (let i = 0; i < kvs.length; i += 2) m[kvs[i]!] = kvs[i + 1]!;
  return m;
}

function indexOrDefault(m: Record<string, unknown> | null, name: string, value: string): unknown {
  if (m && mapHas(m, name)) return mapGet(m, name);
  return value;
}

function englishJoin(ss: string[]): string {
  const items = ss.filter((s) => trimSpace(s) !== '');
  let out = '';
  items.forEach((s, i) => {
    if (i === 0) out += s;
    else if (i === items.length - 1) out += `${i > 1 ? ',' : ''} and ${s}`;
    else out += `, ${s}`;
  });
  return out;
}

function homeDir(): string {
  const home = process.env.HOME ?? process.env.USERPROFILE;
  if (!home) throw new Error('user: Current requires $HOME');
  return home;
}

function osError(op: string, path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const reason =
    e.code === 'ENOENT' ? 'no such file or directory'
    : e.code === 'EACCES' ? 'permission denied'
    : e.code === 'EISDIR' ? 'is a directory'
    : (e.message ?? String(err));
  return new Error(`${op} ${path}: ${reason}`);
}

/**
 * Opens a regular file for reading (a FIFO or a device such as /dev/zero could
 * block or never end) and calls `use` with its descriptor and size.
 */
function withRegularFile<T>(p: string, use: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    fd = openSync(p, 'r');
  } catch (err) {
    throw osError('open', p, err);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new Error(`read ${p}: is a directory`);
    if (!st.isFile()) throw new Error(`read ${p}: not a regular file`);
    return use(fd, st.size);
  } finally {
    closeSync(fd);
  }
}

function mustReadFile(path: string): string {
  const p = path.startsWith('~/') ? homeDir() + path.slice(1) : path;
  return withRegularFile(p, (fd, size) => {
    if (size > MAX_READ_FILE) throw new Error(`read ${p}: file is larger than ${formatSize(MAX_READ_FILE)}`);
    const buf = Buffer.alloc(size);
    let n = 0;
    // The file may grow while it is read; never read past the size checked above.
    while (n < size) {
      const r = readSync(fd, buf, n, size - n, n);
      if (r === 0) break;
      n += r;
    }
    return trimSpace(buf.subarray(0, n).toString('utf8'));
  });
}

function readFile(path: string): string {
  try {
    return mustReadFile(path);
  } catch {
    return '';
  }
}

// CRC-32 (IEEE), the one checksum node:crypto lacks.
let crcTable: Uint32Array | undefined;
function crc32Update(crc: number, data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = crc;
  for (const b of data) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return c;
}

/** Node's name for each GoReleaser checksum function (blake3 is not available). */
const HASHES: Record<string, string> = {
  blake2b: 'blake2b512', blake2s: 'blake2s256', md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256',
  sha384: 'sha384', sha512: 'sha512', sha3_224: 'sha3-224', sha3_256: 'sha3-256', sha3_384: 'sha3-384', sha3_512: 'sha3-512',
};

function checksum(name: string, path: string): string {
  // Streamed in 1 MiB chunks: an artifact is never held in memory whole.
  // Loaded on first use so that the template module itself stays light.
  const crypto = name === 'crc32' ? undefined : process.getBuiltinModule('node:crypto');
  const hash = crypto?.createHash(HASHES[name]!);
  let crc = 0xffffffff;
  try {
    withRegularFile(path, (fd, size) => {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(size, 1), 1 << 20));
      let pos = 0;
      while (pos < size) {
        const r = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
        if (r === 0) break;
        pos += r;
        if (hash) hash.update(buf.subarray(0, r));
        else crc = crc32Update(crc, buf.subarray(0, r));
      }
    });
  } catch (err) {
    throw new Error(`failed to checksum: ${(err as Error).message}`);
  }
  if (hash) return hash.digest('hex');
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

const str = (fn: (...a: string[]) => unknown) => (_: FuncContext, a: unknown[]) => fn(...(a as string[]));

export const GORELEASER_FUNCS: ReadonlyMap<string, FuncSpec> = new Map<string, FuncSpec>([
  ['replace', spec(['string', 'string', 'string'], str(replaceAll))],
  ['split', spec(['string', 'string'], str(split))],
  ['time', spec(['string'], str((layout) => formatGoTime(new Date(), layout)))],
  ['contains', spec(['string', 'string'], str((s, sub) => s.includes(sub)))],
  ['tolower', spec(['string'], str(toLower))],
  ['toupper', spec(['string'], str(toUpper))],
  ['trim', spec(['string'], str(trimSpace))],
  ['trimprefix', spec(['string', 'string'], str((s, p) => (p !== '' && s.startsWith(p) ? s.slice(p.length) : s)))],
  ['trimsuffix', spec(['string', 'string'], str((s, p) => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s)))],
  ['title', spec(['string'], str(title))],
  ['dir', spec(['string'], str(gopath.dir))],
  ['base', spec(['string'], str(gopath.base))],
  ['abs', spec(['string'], str(gopath.abs))],
  ['join', spec([], str(gopath.join), 'string')],
  ['incmajor', spec(['string'], str(incMajor))],
  ['incminor', spec(['string'], str(incMinor))],
  ['incpatch', spec(['string'], str(incPatch))],
  ['filter', spec(['string', 'string'], str((s, re) => filter(s, re, false)))],
  ['reverseFilter', spec(['string', 'string'], str((s, re) => filter(s, re, true)))],
  ['mdv2escape', spec(['string'], str(mdv2escape))],
  ['envOrDefault', spec(['string', 'string'], (ctx, [name, value]) => (mapHas(ctx.env, name as string) ? mapGet(ctx.env, name as string) : value))],
  ['isEnvSet', spec(['string'], (ctx, [name]) => mapHas(ctx.env, name as string) && mapGet(ctx.env, name as string) !== '')],
  ['map', spec([], str((...kvs) => makeMap(kvs)), 'string')],
  ['indexOrDefault', spec(['strmap', 'string', 'string'], (_, [m, name, value]) => indexOrDefault(m as Record<string, unknown> | null, name as string, value as string))],
  ['urlPathEscape', spec(['string'], str((s) => urlEscape(s, 'pathSegment')))],
  ...['crc32', ...Object.keys(HASHES)].map((name): [string, FuncSpec] => [name, spec(['string'], str((p) => checksum(name, p)))]),
  ['readFile', spec(['string'], str(readFile))],
  ['mustReadFile', spec(['string'], str(mustReadFile))],
  ['englishJoin', spec(['strlist'], (_, [ss]) => englishJoin((ss as string[] | null) ?? []))],
  ['list', spec([], (_, a) => [...(a as string[])], 'string')],
]);

