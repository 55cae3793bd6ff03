/**
 * Every regular expression a user writes (template `filter`/`reverseFilter`,
 * `changelog.filters`) is compiled here, with RE2 semantics (the re2js
 * package, a pure-JS port of RE2): matching time is linear in the input, so
 * a pattern such as `^(a+)+$` cannot hang a release, and the syntax is Go's
 * `regexp` syntax, the one GoReleaser users write. Backreferences and
 * lookaround are rejected, as in Go.
 */
import { RE2JS } from 're2js';

/** Patterns longer than this are refused: RE2's compiled program grows with the pattern. */
export const MAX_PATTERN_LENGTH = 4096;

/** A compiled user pattern. */
export interface UserRegexp {
  readonly source: string;
  /** Whether the pattern matches anywhere in `text` (Go's MatchString). */
  test(text: string): boolean;
}

/** Thrown for a pattern RE2 does not accept; the message is Go's (`error parsing regexp: …`), one line. */
export class RegexpSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexpSyntaxError';
  }
}

const cache = new Map<string, UserRegexp>();
const MAX_CACHE = 256;

/** Compiles `pattern` with RE2 (Go regexp) syntax. Throws RegexpSyntaxError. */
export function compileUserRegexp(pattern: string): UserRegexp {
  let re = cache.get(pattern);
  if (re) return re;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexpSyntaxError(`error parsing regexp: pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new RegexpSyntaxError(message.split('\n')[0]!.startsWith('error parsing regexp') ? message.split('\n')[0]! : `error parsing regexp: ${message.split('\n')[0]}`);
  }
  re = { source: pattern, test: (text: string) => compiled.test(text) };
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(pattern, re);
  return re;
}
