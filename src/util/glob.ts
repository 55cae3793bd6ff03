import { RelsignError } from './errors.js';

/**
 * Globs become backtracking regular expressions inside globby (picomatch):
 * with k `*` in one path segment, matching a name of n characters can take
 * about n^k steps (`*a*a*a*b` against a 200-character name: 0.7 s per file;
 * six stars: minutes). Patterns with more than MAX_STARS_PER_SEGMENT stars in
 * one segment are refused; `**` as a whole segment is not a star here (it
 * matches whole directories, not characters).
 */
export const MAX_STARS_PER_SEGMENT = 3;
export const MAX_GLOB_LENGTH = 4096;
/**
 * Brace groups (`{a,b}`, `{1..9}`) are expanded into separate patterns before
 * matching, so their product must stay small: `{a,b}` sixteen times is 65,536
 * patterns and took 14 s; twenty times did not finish.
 */
export const MAX_BRACE_EXPANSION = 256;

/** An upper bound on the number of patterns brace expansion makes (nested groups counted as products). */
function braceExpansionBound(pattern: string): number {
  let product = 1;
  const open: Array<{ start: number; alternatives: number }> = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '{') open.push({ start: i, alternatives: 1 });
    else if (c === ',' && open.length > 0) open[open.length - 1]!.alternatives++;
    else if (c === '}' && open.length > 0) {
      const group = open.pop()!;
      let n = group.alternatives;
      if (n === 1) {
        const range = /^(-?\d+|[^.])\.\.(-?\d+|[^.])(?:\.\.-?\d+)?$/.exec(pattern.slice(group.start + 1, i));
        if (range) {
          const at = (x: string) => (/^-?\d+$/.test(x) ? Number(x) : x.codePointAt(0)!);
          n = Math.abs(at(range[2]!) - at(range[1]!)) + 1;
        }
      }
      product *= n;
      if (product > MAX_BRACE_EXPANSION) return product;
    }
  }
  return product;
}

/** Throws a RelsignError naming `where` when `pattern` could make matching hang. */
export function checkGlob(pattern: string, where: string): void {
  if (pattern.length > MAX_GLOB_LENGTH) {
    throw new RelsignError(`${where}: glob is longer than ${MAX_GLOB_LENGTH} characters`);
  }
  if (braceExpansionBound(pattern) > MAX_BRACE_EXPANSION) {
    throw new RelsignError(
      `${where}: glob ${JSON.stringify(pattern)} expands its {…} groups into more than ${MAX_BRACE_EXPANSION} patterns; split it into several patterns`,
    );
  }
  for (const segment of pattern.split('/')) {
    if (segment === '**') continue;
    let stars = 0;
    for (let i = 0; i < segment.length; i++) {
      if (segment[i] === '\\') i++;
      else if (segment[i] === '*') {
        stars++;
        while (segment[i + 1] === '*') i++;
      }
    }
    if (stars > MAX_STARS_PER_SEGMENT) {
      throw new RelsignError(
        `${where}: glob ${JSON.stringify(pattern)} has ${stars} "*" in one path segment (at most ${MAX_STARS_PER_SEGMENT}: matching time grows as the name length to that power); split it into several patterns`,
      );
    }
  }
}
