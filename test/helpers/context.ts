import { mkdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { applyDefaults } from '../../src/config/defaults.js';
import { createContext, type Context, type ReleaseOptions } from '../../src/pipeline/context.js';
import { Logger } from '../../src/pipeline/logger.js';
import { Redactor } from '../../src/util/redact.js';

/** Collects everything a stage logs, so tests can assert on it (and on what it must not contain). */
export class LogSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** A context over a real folder, with a config given as the user would write it. */
export async function testContext(
  dir: string,
  rawConfig: Record<string, unknown>,
  init: { options?: Partial<ReleaseOptions>; env?: Record<string, string>; version?: string; tag?: string } = {},
): Promise<{ ctx: Context; logs: LogSink }> {
  const logs = new LogSink();
  const redactor = new Redactor();
  const config = applyDefaults(rawConfig, { projectName: 'demo' });
  const ctx = createContext({
    cwd: dir,
    config,
    rawConfig,
    log: new Logger({ stream: logs, redactor, verbose: true }),
    redactor,
    options: { parallelism: 4, ...init.options },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...init.env },
    git: { tag: init.tag ?? 'v1.0.0', commitDate: new Date('2024-01-02T03:04:05Z') },
    version: init.version,
  });
  await mkdir(ctx.distDir, { recursive: true });
  return { ctx, logs };
}
