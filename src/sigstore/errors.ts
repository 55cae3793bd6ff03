import { RelsignError } from '../util/errors.js';

/** A one-line error for a file that cannot be read (the path is shown, never the content). */
export function fileError(err: unknown, path: string): RelsignError {
  if (err instanceof RelsignError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : (code ?? (err instanceof Error ? err.message.split('\n')[0] : 'read error'));
  return new RelsignError(`cannot read ${path}: ${why}`, { cause: err });
}

export type VerificationFailure =
  | 'invalid-signature'
  | 'malformed-signature'
  | 'digest-mismatch'
  | 'malformed-bundle'
  | 'unsupported-bundle'
  | 'tlog';

/** verify-blob's failures: one line naming what is wrong, exit code 1. */
export class BlobVerificationError extends RelsignError {
  readonly reason: VerificationFailure;
  constructor(reason: VerificationFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'BlobVerificationError';
    this.reason = reason;
  }
}

/**
 * A value from a hostile JSON document, shown in a message: a string quoted and
 * cut to 60 characters, anything else by its kind. Never serialises the value,
 * which could be megabytes or nested deeper than the stack.
 */
export function shownJsonValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'nothing';
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}
