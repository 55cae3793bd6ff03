import { resolve } from 'node:path';
import { execa } from 'execa';
import type { HookConfig } from '../config/types.js';
import { splitArgs } from '../util/argv.js';
import { RelsignError } from '../util/errors.js';
import type { Context } from './context.js';
import { render } from './template-data.js';

/**
 * Runs hooks in order (before.hooks, builds[].hooks). Each is templated, then
 * run without a shell unless it asks for one. A failing hook stops the run and
 * its output tail is shown.
 */
export async function runHooks(
  ctx: Context,
  hooks: readonly HookConfig[],
  where: string,
  options: { extraEnv?: Record<string, string>; templateExtra?: Record<string, unknown> } = {},
): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    const name = `${where}[${i}]`;
    const h = typeof hook === 'string' ? { cmd: hook } : hook;
    const env: Record<string, string> = { ...ctx.env, ...(options.extraEnv ?? {}) };
    for (const [j, entry] of (h.env ?? []).entries()) {
      const eq = entry.indexOf('=');
      env[entry.slice(0, eq)] = render(ctx, entry.slice(eq + 1), `${name}.env[${j}]`, { env, extra: options.templateExtra });
      ctx.redactor.addEnv(entry.slice(0, eq), env[entry.slice(0, eq)]);
    }
    const tmpl = (s: string, field: string) => render(ctx, s, `${name}${field}`, { env, extra: options.templateExtra });
    let file: string;
    let args: string[];
    if (Array.isArray(h.cmd)) {
      [file, ...args] = h.cmd.map((part, k) => tmpl(part, `.cmd[${k}]`)) as [string, ...string[]];
    } else if (h.shell) {
      file = 'sh';
      args = ['-c', tmpl(h.cmd, '.cmd')];
    } else {
      [file, ...args] = splitArgs(tmpl(h.cmd, typeof hook === 'string' ? '' : '.cmd'), name) as [string, ...string[]];
    }
    if (!file) throw new RelsignError(`${name}: empty command`);
    const cwd = h.dir ? resolve(ctx.cwd, tmpl(h.dir, '.dir')) : ctx.cwd;
    ctx.log.info(`  running ${[file, ...args].join(' ')}`);
    const r = await execa(file, args, {
      cwd,
      env,
      extendEnv: false,
      reject: false,
      all: true,
      stdin: 'ignore',
      cancelSignal: ctx.signal,
    });
    const output = String(r.all ?? '').trimEnd();
    if (output && (h.output || ctx.log.verbose)) for (const line of output.split('\n')) ctx.log.info(`    ${line}`);
    if (r.failed) {
      const why = (r as { code?: string }).code === 'ENOENT' ? `command not found: ${file}` : `exit code ${r.exitCode ?? r.signal}`;
      const tail = output.split('\n').slice(-10).join('\n');
      if (tail && !h.output && !ctx.log.verbose) for (const line of tail.split('\n')) ctx.log.error(`    ${line}`);
      throw new RelsignError(`${name}: hook failed (${why}): ${[file, ...args].join(' ')}`);
    }
  }
}
