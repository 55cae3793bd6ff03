import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describeError, RelsignError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';

/**
 * Entry point. Heavy modules (ajv, octokit, archiver, crypto code) are imported
 * lazily inside command actions so that `relsign --version` stays fast.
 * Returns the exit code: 0 ok, 1 failure, 2 usage error.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('relsign')
    .description('Build, archive, checksum, sign (cosign-compatible) and publish releases.')
    .version(readVersion(), '-v, --version', 'print the relsign version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(oneLine(s.replace(/^error: /, 'relsign: ')) + '\n'),
    });
  registerCommands(program);
  // Commander's `exitOverride` applies per command; set it on every subcommand too.
  for (const cmd of program.commands) cmd.exitOverride();

  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help / --version end with a zero-code CommanderError; usage errors are already printed.
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    return 2;
  }
  if (err instanceof RelsignError) {
    const lines = err.details.length > 0 ? err.details : [err.message];
    for (const line of lines) process.stderr.write(`relsign: ${oneLine(redactForReport(line))}\n`);
    return err.exitCode;
  }
  process.stderr.write(`relsign: internal error: ${oneLine(redactForReport(describeError(err)))}\n`);
  return 1;
}

/** Secrets registered during the run (see Redactor) must not leak through a final error. */
let activeRedactor: { redact(text: string): string } | undefined;
export function setErrorRedactor(r: { redact(text: string): string } | undefined): void {
  activeRedactor = r;
}
function redactForReport(text: string): string {
  return activeRedactor ? activeRedactor.redact(text) : text;
}

/** Longest error line printed: a hostile file name or value quoted in a message must not flood the terminal. */
const MAX_ERROR_LINE = 4000;

/** Whitespace runs holding a line break become "; ". One `\s+` scan: linear however long the runs. */
function oneLine(s: string): string {
  const line = s.trim().replace(/\s+/g, (run) => (run.includes('\n') ? '; ' : run));
  return line.length > MAX_ERROR_LINE ? `${line.slice(0, MAX_ERROR_LINE)}… (${line.length - MAX_ERROR_LINE} more characters)` : line;
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
