import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/relsign.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI (lib/, built by `npm test` before vitest) as a user would. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliResult> {
  const r = await execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { RELSIGN_CURRENT_TAG: undefined, ...options.env },
    reject: false,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** No stack trace lines (`    at fn (file:1:2)`) in output. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text) || /\n\s+at /.test(text);
}
