import { basename, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';

/** A path inside the config, as ajv and the YAML AST see it: keys and array indexes. */
export type ConfigPath = ReadonlyArray<string | number>;

/** `signs[1].artifacts` — the spelling users see in every message. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out || '(top level)';
}

/**
 * The loaded config file plus what is needed to point at a place in it:
 * for YAML, the parsed document and its line counter.
 */
export class ConfigSource {
  constructor(
    readonly filepath: string | undefined,
    readonly data: unknown,
    private readonly doc?: Document.Parsed,
    private readonly lines?: LineCounter,
  ) {}

  /** File name as shown in messages: relative to cwd when that is shorter. */
  get displayName(): string {
    if (!this.filepath) return 'config';
    const rel = relative(process.cwd(), this.filepath);
    return rel && !rel.startsWith('..') && rel.length < this.filepath.length ? rel : basename(this.filepath);
  }

  /**
   * `file:line:col` of the node at `path` (or of its key, for unknown keys).
   * Falls back to the nearest ancestor that exists, then to the file name.
   */
  locate(path: ConfigPath, options: { key?: boolean } = {}): string {
    const name = this.displayName;
    if (!this.doc || !this.lines) return name;
    for (let n = path.length; n >= 0; n--) {
      const offset = this.offsetOf(path.slice(0, n), options.key === true && n === path.length);
      if (offset !== undefined) {
        const { line, col } = this.lines.linePos(offset);
        return `${name}:${line}:${col}`;
      }
    }
    return name;
  }

  private offsetOf(path: ConfigPath, wantKey: boolean): number | undefined {
    let node: unknown = this.doc!.contents;
    let keyNode: unknown;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
        if (!pair) return undefined;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else {
        return undefined;
      }
      if (node === undefined || node === null) {
        if (keyNode) break;
        return undefined;
      }
    }
    const target = wantKey && keyNode ? keyNode : (node ?? keyNode);
    const range = (target as { range?: [number, number, number] } | undefined)?.range;
    return range ? range[0] : undefined;
  }
}

export interface YamlParseResult {
  source?: ConfigSource;
  /** One line per error: `file:line:col: YAML syntax error: ...`. */
  errors: string[];
}

/**
 * Configs are a few KiB; this leaves wide room. The YAML parser records every
 * error of a broken document, so a huge garbled file would keep it busy for
 * seconds: anything larger is refused unparsed.
 */
export const MAX_YAML_CONFIG_CHARS = 256 * 1024;

export function parseYamlConfig(filepath: string, text: string): YamlParseResult {
  const shown = new ConfigSource(filepath, undefined).displayName;
  if (text.length > MAX_YAML_CONFIG_CHARS) {
    return { errors: [`${shown}: too large for a config file (${Math.ceil(text.length / 1024)} KiB; at most ${MAX_YAML_CONFIG_CHARS / 1024} KiB)`] };
  }
  const lines = new LineCounter();
  // prettyErrors would add context to every error, costing time per error in the
  // file's size (quadratic on garbage); only the first error is shown, located below.
  // Stack traces of the parser's internal error objects are never shown either.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  } catch (err) {
    // The parser recurses on nesting (`a: a: a: …`, `[[[…`) and overflows the stack on thousands of levels.
    const why = err instanceof RangeError ? 'nested too deeply to parse' : err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { errors: [`${shown}: YAML syntax error: ${why}`] };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  // yaml reads a tag it does not know (`!js/function`, `!!float x`) as a plain value with only a
  // warning: the config would then mean something other than what its author wrote.
  const problems = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED')];
  if (problems.length > 0) {
    // Later YAML errors are mostly cascades of the first one: report that one.
    const errors = problems.slice(0, 1).map((e) => {
      const pos = lines.linePos(e.pos[0]);
      const where = `${shown}:${pos.line}:${pos.col}`;
      const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      if (e.code === 'TAG_RESOLVE_FAILED') return `${where}: YAML error: ${msg.replace(/^Unresolved tag/, 'unknown tag')} (relsign configs use plain YAML values; remove the tag)`;
      return `${where}: YAML syntax error: ${msg}`;
    });
    return { errors };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // yaml throws (a ReferenceError) when aliases expand too far: an "alias bomb".
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { errors: [`${shown}: YAML error: ${why}`] };
  }
  return { source: new ConfigSource(filepath, data, doc, lines), errors: [] };
}
