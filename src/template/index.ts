/**
 * Go text/template, as GoReleaser uses it (missingkey=error plus its
 * FuncMap), for relsign's config templates. See docs/templates.md.
 *
 * Templates are parsed once and cached by text; rendering walks the cached
 * tree, so per-artifact rendering is cheap.
 */
import type { ListNode } from './ast.js';
import { PositionedError, positionOf, TemplateError } from './errors.js';
import { execute, type LiteralFilter } from './exec.js';
import { expandArgVariables } from './expand.js';
import { MAX_TEMPLATE_SIZE } from './limits.js';
import { callProblems } from './arity.js';
import { collectFields } from './fields.js';
import { BUILTINS, GORELEASER_FUNCS, type FuncSpec } from './funcs.js';
import { toLower, trimSpace } from './gostrings.js';
import { parse } from './parser.js';

export { TemplateError } from './errors.js';
export { expandArgVariables } from './expand.js';
export { MAX_DEPTH, MAX_OUTPUT, MAX_RANGE, MAX_STEPS, MAX_TEMPLATE_SIZE } from './limits.js';

/** Name used in messages when the caller gives none (GoReleaser's is "tmpl"). */
const DEFAULT_NAME = 'tmpl';

export interface TemplateOptions {
  /** Shown in error messages, e.g. "archives[0].name_template". */
  name?: string;
  /** Extra functions; they take precedence over the built-in ones. Arguments are not type-checked. */
  funcs?: Record<string, (...args: any[]) => unknown>;
}

export interface ParsedTemplate {
  readonly text: string;
  /** @internal the parse tree */
  readonly tree: ListNode;
}

interface CacheEntry {
  readonly parsed?: ParsedTemplate;
  readonly error?: PositionedError;
}

const MAX_CACHE = 10_000;
/** Larger templates are parsed each time rather than kept: the cache stays small whatever the config holds. */
const MAX_CACHED_TEXT = 64 * 1024;
const cache = new Map<string, CacheEntry>();

const isKnownFunction = (name: string): boolean => GORELEASER_FUNCS.has(name) || BUILTINS.has(name);

function toTemplateError(text: string, name: string, err: PositionedError): TemplateError {
  return new TemplateError(name, err.message, positionOf(text, err.pos), { cause: err.cause ?? err });
}

function lookupParsed(text: string, customNames: readonly string[]): CacheEntry {
  const key = customNames.length === 0 ? text : `${text}\u0000${customNames.join('\u0000')}`;
  let entry = cache.get(key);
  if (!entry) {
    const isFunction = customNames.length === 0 ? isKnownFunction : (n: string) => customNames.includes(n) || isKnownFunction(n);
    try {
      entry = { parsed: { text, tree: parse(text, isFunction) } };
    } catch (err) {
      if (!(err instanceof PositionedError)) throw err;
      entry = { error: err };
    }
    if (key.length <= MAX_CACHED_TEXT) {
      if (cache.size >= MAX_CACHE) cache.clear();
      cache.set(key, entry);
    }
  }
  return entry;
}

function customFunctionNames(funcs: TemplateOptions['funcs']): string[] {
  return funcs ? Object.keys(funcs).filter((k) => typeof funcs[k] === 'function').sort() : [];
}

/**
 * Parses (or returns the cached parse of) a template, validating its syntax,
 * its function names (built-in and GoReleaser functions) and its variables.
 * Throws a TemplateError naming `name`.
 */
export function parseTemplate(text: string, name: string = DEFAULT_NAME): ParsedTemplate {
  const entry = lookupParsed(text, []);
  if (entry.error) throw toTemplateError(text, name, entry.error);
  return entry.parsed!;
}

/**
 * Check-time validation beyond syntax: calls with the wrong number of
 * arguments (with the built-in and GoReleaser functions). Throws the
 * TemplateError running the template would, with its line and column.
 */
export function checkTemplateCalls(text: string, name: string = DEFAULT_NAME): void {
  const parsed = parseTemplate(text, name);
  const [first] = callProblems(parsed.tree, (fn) => GORELEASER_FUNCS.get(fn) ?? BUILTINS.get(fn));
  if (first) throw new TemplateError(name, first.detail, positionOf(text, first.pos));
}

/** Renders a template with `data` as dot (and `$`). Throws a TemplateError naming `options.name`. */
export function renderTemplate(text: string, data: Record<string, unknown>, options: TemplateOptions = {}): string {
  // Fast path: no action at all (still bounded: a huge text is refused like a huge template).
  if (!text.includes('{{') && text.length <= MAX_TEMPLATE_SIZE) return text;
  return run(text, data, options);
}

/**
 * Renders a signer setting (args, stdin, signature, env, if…) whose literal
 * text may hold argument variables (`$<artifact>`, `${artifact}`, `$artifact`,
 * `$VAR`; see expandArgVariables). The template is parsed as written; the
 * variables in its text and in its string constants are then replaced by
 * their values, which are never parsed or rendered: an artifact name, tag or
 * environment value holding `{{ … }}` stays literal. Template output is not
 * expanded either.
 */
export function renderWithArgVariables(
  text: string,
  data: Record<string, unknown>,
  vars: Record<string, string>,
  env: Record<string, string | undefined>,
  options: TemplateOptions = {},
): string {
  const name = options.name ?? DEFAULT_NAME;
  if (!text.includes('{{') && text.length <= MAX_TEMPLATE_SIZE) return expandArgVariables(text, vars, env, name);
  const literal: LiteralFilter = (t) => (t.includes('$') ? expandArgVariables(t, vars, env, name) : t);
  return run(text, data, options, literal);
}

function run(text: string, data: Record<string, unknown>, options: TemplateOptions, literal?: LiteralFilter): string {
  const name = options.name ?? DEFAULT_NAME;
  const customNames = customFunctionNames(options.funcs);
  const entry = lookupParsed(text, customNames);
  if (entry.error) throw toTemplateError(text, name, entry.error);
  const funcs = options.funcs;
  const custom = new Map<string, FuncSpec>();
  const lookup = (fn: string): FuncSpec | undefined => {
    if (funcs && customNames.length > 0 && customNames.includes(fn)) {
      let spec = custom.get(fn);
      if (!spec) {
        const f = funcs[fn]!;
        spec = { params: [], variadic: 'any', fn: (_ctx, args) => f(...args) };
        custom.set(fn, spec);
      }
      return spec;
    }
    return GORELEASER_FUNCS.get(fn) ?? BUILTINS.get(fn);
  };
  try {
    return execute(entry.parsed!.tree, data, lookup, literal);
  } catch (err) {
    if (err instanceof PositionedError) throw toTemplateError(text, name, err);
    throw err;
  }
}

/** GoReleaser's Template.Bool: the rendered text, trimmed and lower-cased, equals "true". */
export function renderBool(text: string, data: Record<string, unknown>, options?: TemplateOptions): boolean {
  return trimSpace(toLower(renderTemplate(text, data, options))) === 'true';
}

/**
 * Root-relative field references in a template (`.Version` → ["Version"],
 * `.Env.FOO` → ["Env","FOO"], `$.Tag` → ["Tag"]), each once, in order of
 * appearance. Fields of `range` elements are not included. Throws a
 * TemplateError on syntax errors (unknown function names are allowed here).
 */
export function fieldsUsed(text: string): string[][] {
  if (!text.includes('{{')) return [];
  let entry = lookupParsed(text, []);
  if (entry.error) {
    try {
      entry = { parsed: { text, tree: parse(text, () => true) } };
    } catch (err) {
      if (err instanceof PositionedError) throw toTemplateError(text, DEFAULT_NAME, err);
      throw err;
    }
  }
  return collectFields(entry.parsed!.tree);
}
