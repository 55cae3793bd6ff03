import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerRelease } from './release.js';

/**
 * Every subcommand registers itself here. Command modules declare their flags
 * and lazily import their implementation inside the action, so registering
 * them all costs almost nothing at start-up.
 */
export function registerCommands(program: Command): void {
  registerRelease(program);
  registerCheck(program);
}
