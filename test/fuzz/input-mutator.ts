/**
 * A small, seeded fuzzing harness for the parsers: a PRNG of our own (so a run
 * is reproducible on any Node version), mutators for real inputs (bit flips,
 * truncation, duplication, splicing, huge repeats, deep nesting) and random
 * structured garbage. Every case gets its own generator derived from the seed
 * and the case number, so one failing case can be re-run on its own:
 *
 *   RELSIGN_FUZZ_SEED=<seed> RELSIGN_FUZZ_CASE=<n> npx vitest run test/fuzz/<file>
 *
 * RELSIGN_FUZZ_RUNS scales the number of cases (e.g. 100000 for a long soak).
 */

/** sfc32: fast, good enough statistically, and fully determined by its seed. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  constructor(seed: number, stream = 0) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88 ^ stream;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }
  /** A 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.next() / 2 ** 32) * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Small numbers far more often than big ones: good for lengths and depths. */
  size(max: number): number {
    return Math.min(max, Math.floor(2 ** (this.next() / 2 ** 32 * Math.log2(max + 1))) - 1 + this.int(2));
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** The seed of this run: RELSIGN_FUZZ_SEED, else the file's fixed default. */
export function fuzzSeed(defaultSeed: number): number {
  const fromEnv = process.env.RELSIGN_FUZZ_SEED;
  return fromEnv ? Number(fromEnv) >>> 0 : defaultSeed;
}

/** Case count: the file's default, scaled by RELSIGN_FUZZ_RUNS / 1000 when it is set. */
export function fuzzRuns(defaultRuns: number): number {
  const fromEnv = Number(process.env.RELSIGN_FUZZ_RUNS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? Math.ceil((defaultRuns * fromEnv) / 1000) : defaultRuns;
}

const INTERESTING_STRINGS = [
  '', '\0', '\n', '\r\n', ' ', '\t', '-', '=', '==', '===', '{', '}', '[', ']', '"', "'", '\\', ':', ',', '#',
  '-----', '-----BEGIN ', '-----END ', 'PUBLIC KEY', 'PRIVATE KEY', 'ENCRYPTED SIGSTORE PRIVATE KEY',
  'null', 'true', 'false', '0', '-1', '1e309', '9007199254740993', 'NaN', '__proto__', 'constructor',
  '\u00a0', '\ufeff', '\u2028', '\ud800', '😀', '%s', '{{', '}}', '${', '$(', '`', '&', '*', '!', '|', '>',
];

/** Random text: mostly ASCII, with some control characters, Unicode and lone surrogates. */
export function randomText(rng: Rng, max = 64): string {
  const n = rng.size(max);
  let s = '';
  for (let i = 0; i < n; i++) {
    const kind = rng.int(10);
    if (kind < 6) s += String.fromCharCode(rng.range(0x20, 0x7e));
    else if (kind === 6) s += String.fromCharCode(rng.int(0x20));
    else if (kind === 7) s += String.fromCharCode(rng.range(0x80, 0xffff));
    else s += rng.pick(INTERESTING_STRINGS);
  }
  return s;
}

/** A random JSON-able value: objects, arrays, strings, numbers, booleans, null. */
export function randomJson(rng: Rng, depth = 4, keys: readonly string[] = []): unknown {
  const kind = rng.int(depth <= 0 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1, 2 ** 31, 2 ** 53, 1e308, -1e-308, 0.5, 32768, 65536, 131072, 2 ** 20, rng.int(1000)]);
    case 3:
    case 4:
      return rng.chance(0.3) ? rng.bytes(rng.size(64)).toString('base64') : randomText(rng, 32);
    case 5:
    case 6: {
      const o: Record<string, unknown> = {};
      const n = rng.size(6);
      for (let i = 0; i < n; i++) o[keys.length > 0 && rng.chance(0.7) ? rng.pick(keys) : randomText(rng, 12)] = randomJson(rng, depth - 1, keys);
      return o;
    }
    default: {
      const n = rng.size(6);
      return Array.from({ length: n }, () => randomJson(rng, depth - 1, keys));
    }
  }
}

/** `[[[[…]]]]`, `{"a":{"a":…}}` and friends, `depth` levels deep. */
export function deepJson(rng: Rng, depth: number): string {
  const [open, close] = rng.pick([
    ['[', ']'],
    ['{"a":', '}'],
    ['{"mediaType":', '}'],
    ['[1,', ']'],
  ] as const);
  return open.repeat(depth) + rng.pick(['1', '"x"', 'null', '{}', '[]']) + close.repeat(depth);
}

/** YAML nested `depth` levels: flow style, block style, or anchors and aliases. */
export function deepYaml(rng: Rng, depth: number): string {
  switch (rng.int(4)) {
    case 0:
      return `${'['.repeat(depth)}x${']'.repeat(depth)}\n`;
    case 1:
      return `${'{a: '.repeat(depth)}x${'}'.repeat(depth)}\n`;
    case 2: {
      const lines: string[] = [];
      const d = Math.min(depth, 2000);
      for (let i = 0; i < d; i++) lines.push(`${' '.repeat(i)}k${i}:`);
      lines.push(`${' '.repeat(d)}v`);
      return `${lines.join('\n')}\n`;
    }
    default: {
      // The "billion laughs": each level refers to the previous one ten times.
      const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
      const levels = Math.min(depth, 30);
      for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
      return `${lines.join('\n')}\n`;
    }
  }
}

/** One random edit of `input` (text or bytes), sometimes using a second input to splice from. */
export function mutateBytes(rng: Rng, input: Buffer, other?: Buffer): Buffer {
  let b = Buffer.from(input);
  const at = (): number => rng.int(b.length + 1);
  switch (rng.int(11)) {
    case 0: {
      // flip 1–8 bits
      if (b.length === 0) return rng.bytes(1);
      const n = rng.range(1, 8);
      for (let i = 0; i < n; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    }
    case 1: {
      // set bytes to interesting values
      if (b.length === 0) return b;
      const n = rng.range(1, 4);
      for (let i = 0; i < n; i++) b[rng.int(b.length)] = rng.pick([0, 0xff, 0x7f, 0x80, 0x30, 0x02, 0x04, 0x0a, 0x2d, 0x3d, 0x22, 0x81, 0x84]);
      return b;
    }
    case 2:
      // truncate
      return b.subarray(0, at());
    case 3: {
      // drop a chunk
      const s = at();
      return Buffer.concat([b.subarray(0, s), b.subarray(Math.min(b.length, s + rng.size(64)))]);
    }
    case 4: {
      // duplicate a chunk in place, a few times
      const s = at();
      const chunk = b.subarray(s, Math.min(b.length, s + rng.size(64)));
      return Buffer.concat([b.subarray(0, s), ...Array<Buffer>(rng.range(2, 8)).fill(chunk), b.subarray(s)]);
    }
    case 5: {
      // splice: head of this one, tail of another
      if (!other) return b;
      return Buffer.concat([b.subarray(0, at()), other.subarray(rng.int(other.length + 1))]);
    }
    case 6: {
      // insert random bytes
      const s = at();
      return Buffer.concat([b.subarray(0, s), rng.bytes(rng.size(32)), b.subarray(s)]);
    }
    case 7: {
      // insert an interesting token
      const s = at();
      return Buffer.concat([b.subarray(0, s), Buffer.from(rng.pick(INTERESTING_STRINGS)), b.subarray(s)]);
    }
    case 8: {
      // huge repeat: one chunk repeated to hundreds of KiB
      const s = at();
      const chunk = b.subarray(s, Math.min(b.length, s + rng.range(1, 8)));
      const fill = chunk.length > 0 ? chunk : Buffer.from('A');
      // Mostly tens of KiB; now and then half a MiB (enough to expose quadratic work and deep regex stacks).
      const times = Math.ceil((rng.chance(0.1) ? 1 << 19 : rng.pick([1 << 10, 1 << 12, 1 << 14, 1 << 16])) / fill.length);
      b = Buffer.concat([b.subarray(0, s), Buffer.alloc(fill.length * times, fill), b.subarray(s)]);
      return b;
    }
    case 9: {
      // swap two chunks
      if (b.length < 4) return b;
      const i = rng.int(b.length - 1);
      const j = rng.int(b.length - 1);
      const [lo, hi] = i < j ? [i, j] : [j, i];
      const len = Math.min(rng.size(32), hi - lo);
      return Buffer.concat([b.subarray(0, lo), b.subarray(hi, hi + len), b.subarray(lo + len, hi), b.subarray(lo, lo + len), b.subarray(hi + len)]);
    }
    default:
      // whole-buffer random bytes of similar size
      return rng.bytes(rng.size(Math.max(16, b.length)));
  }
}

/** 1–4 stacked mutations of a corpus entry. */
export function mutate(rng: Rng, corpus: readonly Buffer[]): Buffer {
  let b = rng.pick(corpus);
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) b = mutateBytes(rng, b, rng.pick(corpus));
  return b;
}

export interface FuzzTarget<T> {
  /** Names the parser in failures. */
  name: string;
  seed: number;
  runs: number;
  /** Builds case number `i` from its own generator. */
  generate(rng: Rng, i: number): T;
  /** Runs the parser; returning normally or throwing an allowed error both pass. */
  run(input: T): unknown;
  /** The parser's documented error class(es). */
  allowed(err: unknown): boolean;
  /** Loose bound per input (default 2 s): hostile input must not make a parser crawl. */
  maxMs?: number;
  /** Allowed errors must be one line (default); config errors list one problem per line instead. */
  multiLineErrors?: boolean;
  /** Extra assertion on the output of a successful run. */
  check?(input: T, output: unknown): void;
}

function fail(message: string): never {
  throw new Error(message);
}

function preview(input: unknown): string {
  let s: string;
  if (Buffer.isBuffer(input)) s = `Buffer(${input.length}) ${JSON.stringify(input.subarray(0, 160).toString('latin1'))}`;
  else if (typeof input === 'string') s = `string(${input.length}) ${JSON.stringify(input.slice(0, 160))}`;
  else {
    try {
      s = JSON.stringify(input)?.slice(0, 200) ?? String(input);
    } catch {
      s = String(input).slice(0, 200);
    }
  }
  return s;
}

/**
 * Runs every case and fails (with the seed, the case number and a preview of the
 * input) on the first error that is not the parser's own, or on any input over
 * the time bound. Returns how many cases ran and how many threw allowed errors.
 */
export async function fuzz<T>(target: FuzzTarget<T>): Promise<{ cases: number; rejected: number; slowestMs: number }> {
  const only = process.env.RELSIGN_FUZZ_CASE;
  const maxMs = target.maxMs ?? 2000;
  let rejected = 0;
  let cases = 0;
  let slowestMs = 0;
  const indices = only !== undefined ? [Number(only)] : Array.from({ length: target.runs }, (_, i) => i);
  for (const i of indices) {
    const rng = new Rng(target.seed, i);
    const input = target.generate(rng, i);
    const where = `${target.name}: seed=${target.seed} case=${i} (re-run: RELSIGN_FUZZ_SEED=${target.seed} RELSIGN_FUZZ_CASE=${i}); input ${preview(input)}`;
    // RELSIGN_FUZZ_TRACE=1 names each case before it runs: the way to find one that hangs.
    if (process.env.RELSIGN_FUZZ_TRACE) process.stderr.write(`${target.name} case ${i}\n`);
    const started = performance.now();
    let output: unknown;
    let error: unknown;
    let threw = false;
    try {
      output = await target.run(input);
    } catch (err) {
      threw = true;
      error = err;
    }
    const ms = performance.now() - started;
    if (process.env.RELSIGN_FUZZ_TRACE) process.stderr.write(`${target.name} case ${i}: ${ms.toFixed(1)} ms\n`);
    slowestMs = Math.max(slowestMs, ms);
    cases++;
    if (threw) {
      if (!target.allowed(error)) {
        const e = error as Error | undefined;
        fail(`${where}\nthrew ${e?.constructor?.name ?? typeof error}: ${String(e?.message ?? error).slice(0, 300)}\n${e?.stack?.split('\n').slice(1, 6).join('\n') ?? ''}`);
      }
      const message = (error as Error).message;
      if (typeof message !== 'string' || message.trim().length === 0) fail(`${where}\nthrew an allowed error with an empty message`);
      if (!target.multiLineErrors && message.includes('\n')) fail(`${where}\nthrew a message of several lines: ${JSON.stringify(message.slice(0, 300))}`);
      if (/\n\s+at .+:\d+/.test(message)) fail(`${where}\nthe message holds a stack trace`);
      rejected++;
    } else if (target.check) {
      try {
        target.check(input, output);
      } catch (err) {
        fail(`${where}\n${(err as Error).message}`);
      }
    }
    if (ms > maxMs) fail(`${where}\ntook ${ms.toFixed(0)} ms (bound ${maxMs} ms)`);
  }
  return { cases, rejected, slowestMs };
}

/** A vitest timeout for a fuzz test of `runs` cases: generous, since soaks scale the runs up. */
export function fuzzTimeout(runs: number): number {
  return Math.max(120_000, runs * 60);
}
