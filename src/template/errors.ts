/**
 * Every template failure (syntax, unknown function, missing key, bad call) is a
 * TemplateError whose message is one line and always names the template:
 *
 *   template archives[0].name_template:1:12: unexpected "}" in operand
 *   template signs[0].args[1]:1:3: map has no entry for key "Versoin" (field .Versoin)
 *
 * `line` is 1-based; `column` is the 0-based byte offset in that line, as in
 * Go's text/template error positions.
 */
export class TemplateError extends Error {
  /** Name given by the caller, e.g. "archives[0].name_template". */
  readonly template: string;
  /** The message without the `template NAME:LINE:COL: ` prefix. */
  readonly detail: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(template: string, detail: string, position?: { line: number; column: number }, options?: { cause?: unknown }) {
    const oneLine = toOneLine(detail);
    const where = position ? `${template}:${position.line}:${position.column}` : template;
    super(`template ${where}: ${oneLine}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TemplateError';
    this.template = template;
    this.detail = oneLine;
    this.line = position?.line;
    this.column = position?.column;
  }
}

/** Longest detail kept in a message: a hostile value quoted in an error must not flood the log. */
const MAX_DETAIL = 2000;

/**
 * Each whitespace run holding a line break becomes one space; long details
 * are cut. Linear time: a single `\s+` scan (a pattern like `\s*\n\s*`
 * backtracks quadratically over long runs of spaces).
 */
export function toOneLine(text: string): string {
  const flat = text.replace(/\s+/g, (run) => (run.includes('\n') || run.includes('\r') ? ' ' : run));
  return flat.length > MAX_DETAIL ? `${flat.slice(0, MAX_DETAIL)}… (${flat.length - MAX_DETAIL} more characters)` : flat;
}

/** Internal: a failure at a byte offset of the template text, turned into a TemplateError by the caller. */
export class PositionedError extends Error {
  readonly pos: number;
  constructor(message: string, pos: number, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PositionedError';
    this.pos = pos;
  }
}

/** Line (1-based) and column (0-based UTF-8 byte offset in the line) of a UTF-16 offset. */
export function positionOf(text: string, pos: number): { line: number; column: number } {
  const clamped = Math.max(0, Math.min(pos, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: Buffer.byteLength(text.slice(lineStart, clamped), 'utf8') };
}
