/**
 * Passwords for cosign keys, as cosign gets them:
 * 1. `COSIGN_PASSWORD`, when set (even to the empty string), used verbatim;
 * 2. otherwise a no-echo prompt on the terminal (asked twice when creating a key);
 * 3. otherwise (no terminal) a clear error. Unlike cosign, relsign does not read
 *    a password from piped stdin: it is too easy to feed a trailing newline.
 */
import { RelsignError } from '../util/errors.js';

export const PASSWORD_ENV = 'COSIGN_PASSWORD';

export interface PasswordOptions {
  /** Ask twice and require both answers to match (key creation). */
  confirm?: boolean;
  env?: NodeJS.ProcessEnv;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WritableStream;
}

export async function getPassword(options: PasswordOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const fromEnv = env[PASSWORD_ENV];
  if (fromEnv !== undefined) return fromEnv;
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    throw new RelsignError(`no password: set ${PASSWORD_ENV} (it may be empty) or run in a terminal to be prompted`);
  }
  const first = await promptHidden('Enter password for private key: ', input, output);
  if (options.confirm) {
    const second = await promptHidden('Enter password for private key again: ', input, output);
    if (first !== second) throw new RelsignError('passwords do not match');
  }
  return first;
}

/** Reads one line from a TTY in raw mode, echoing nothing. Ctrl-C / Ctrl-D (on an empty line) cancel. */
export function promptHidden(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(prompt);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const finish = (err?: Error): void => {
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new RelsignError('cancelled', { exitCode: 130 }));
        if (ch === '\u0004') {
          if (value === '') return finish(new RelsignError('cancelled: no password entered'));
          return finish();
        }
        if (ch === '\u007f' || ch === '\b') {
          value = [...value].slice(0, -1).join('');
          continue;
        }
        if (ch === '\u0015') {
          value = ''; // Ctrl-U: clear the line
          continue;
        }
        value += ch;
      }
    };
    input.on('data', onData);
  });
}
