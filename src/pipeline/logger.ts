import type { Redactor } from '../util/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LoggerOptions {
  /** One JSON object per line instead of human text (for CI log parsers). */
  json?: boolean;
  verbose?: boolean;
  stream?: NodeJS.WritableStream;
  redactor?: Redactor;
}

/**
 * The only way stages print. Every line passes through the redactor, so a
 * secret that reaches a message never reaches the terminal or CI log.
 */
export class Logger {
  readonly json: boolean;
  readonly verbose: boolean;
  private readonly stream: NodeJS.WritableStream;
  private readonly redactor?: Redactor;
  private readonly prefix: string;

  constructor(options: LoggerOptions = {}, prefix = '') {
    this.json = options.json ?? false;
    this.verbose = options.verbose ?? false;
    this.stream = options.stream ?? process.stderr;
    this.redactor = options.redactor;
    this.prefix = prefix;
  }

  /** A logger whose lines are indented/tagged under a stage name. */
  child(scope: string): Logger {
    return new Logger(
      { json: this.json, verbose: this.verbose, stream: this.stream, redactor: this.redactor },
      this.prefix ? `${this.prefix}:${scope}` : scope,
    );
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.verbose) this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  redact(text: string): string {
    return this.redactor ? this.redactor.redact(text) : text;
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (this.json) {
      // Redact the values before encoding: once JSON-escaped, a secret holding `"` or `\`
      // no longer matches itself. The encoded line is redacted again for the escaped
      // forms the redactor also knows (a secret inside a field name, say).
      const record: Record<string, unknown> = { level, time: new Date().toISOString(), msg: this.redact(message) };
      if (this.prefix) record.stage = this.prefix;
      if (fields) Object.assign(record, this.redactor ? this.redactor.redactValue(fields) : fields);
      this.stream.write(this.redact(JSON.stringify(record)) + '\n');
      return;
    }
    const mark = level === 'warn' ? '⚠ ' : level === 'error' ? '✖ ' : level === 'debug' ? '· ' : '';
    const indent = this.prefix ? '    ' : '';
    let line = `${indent}${mark}${message}`;
    if (fields && Object.keys(fields).length > 0) {
      const shown = this.redactor ? (this.redactor.redactValue(fields) as Record<string, unknown>) : fields;
      line += ' ' + Object.entries(shown).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    }
    this.stream.write(this.redact(line) + '\n');
  }
}
