/**
 * Bounds on the work one template may cause, so that a hostile config, tag
 * or environment value cannot hang or exhaust a release (docs/templates.md,
 * "Limits"). Exceeding one is a TemplateError naming the template.
 */

/** Largest template source, in UTF-16 code units (1 MiB). */
export const MAX_TEMPLATE_SIZE = 1 << 20;
/** Deepest nesting of parentheses, if/with/range blocks and else-if chains. */
export const MAX_DEPTH = 100;
/** Most iterations of one `range`. */
export const MAX_RANGE = 10_000;
/** Most evaluation steps (nodes walked, commands evaluated) in one render. */
export const MAX_STEPS = 1_000_000;
/**
 * Most text function calls may handle in one render (their string arguments
 * and results, in characters): bounds what the step limit cannot, such as
 * `index` over a 16 MiB string in a 10,000-iteration range.
 */
export const MAX_WORK = 256 << 20;
/** Largest rendered output and largest string any function may return (16 MiB). */
export const MAX_OUTPUT = 16 << 20;
/** Most elements of a list a function (split, list) may return. */
export const MAX_LIST = 1_000_000;
/** Largest file `readFile`/`mustReadFile` read (16 MiB). */
export const MAX_READ_FILE = 16 << 20;

export function formatSize(n: number): string {
  return n >= 1 << 20 && n % (1 << 20) === 0 ? `${n / (1 << 20)} MiB` : n.toLocaleString('en-US');
}
