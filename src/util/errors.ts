/**
 * Errors a user can act on. The CLI prints `message` as one line (no stack) and
 * exits with `exitCode`. Anything that is not a RelsignError is a bug and is
 * still reported on one line, but flagged as internal.
 */
export class RelsignError extends Error {
  readonly exitCode: number;
  /** Several independent problems (e.g. config errors): printed one per line. */
  readonly details: readonly string[];
  constructor(message: string, options: { exitCode?: number; cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelsignError';
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details ?? [];
  }
}

/** Bad flags or arguments: exit code 2, like commander's own usage errors. */
export class UsageError extends RelsignError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = 'UsageError';
  }
}

/** One line describing any thrown value, for messages that wrap a lower-level failure. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}

/** The error an aborted signal carries (the CLI's Ctrl-C or --timeout error), as a RelsignError. */
export function abortReason(signal: AbortSignal): RelsignError {
  const reason: unknown = signal.reason;
  return reason instanceof RelsignError ? reason : new RelsignError('interrupted', { exitCode: 130, cause: reason });
}
