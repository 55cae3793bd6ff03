import { fieldsUsed } from '../template/index.js';
import type { Context } from './context.js';

/**
 * Config settings whose values are secrets, whatever the variables they read
 * are called. `*` matches any array index or map key. `literal: false` marks
 * settings whose own text is a reference, not a secret (a key *path*), but
 * whose referenced environment values are (the PEM behind `env://VAR`).
 *
 * Before anything runs, the values of the environment variables these
 * settings reference (`{{ .Env.X }}`, `$X`, `${X}`, `$<X>`, `env://X`) are
 * registered with the redactor, so a hook that prints one earlier in the run
 * is redacted too; a setting written as plain text is registered as is.
 */
export interface SecretSetting {
  readonly path: readonly string[];
  readonly literal: boolean;
}

export const SECRET_SETTINGS: readonly SecretSetting[] = [
  ...(['signs', 'docker_signs'] as const).flatMap((s) => [
    { path: [s, '*', 'password'], literal: true },
    { path: [s, '*', 'stdin'], literal: true },
    { path: [s, '*', 'key'], literal: false },
  ]),
  { path: ['registries', '*', 'username'], literal: true },
  { path: ['registries', '*', 'password'], literal: true },
  { path: ['release', 'token'], literal: true },
];

const VAR_REF = /\$(?:<([A-Za-z_][A-Za-z0-9_]*)>|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** `{{ .Env.X }}`, `$X`, `${X}`, `env://X` alone (with spaces): a reference, not a secret. */
export function isPlainReference(v: string): boolean {
  return (
    /^\s*\{\{-?\s*\.Env\.[A-Za-z_][A-Za-z0-9_]*\s*-?\}\}\s*$/.test(v) ||
    /^\s*\$(?:<[A-Za-z_]\w*>|\{[A-Za-z_]\w*\}|[A-Za-z_]\w*)\s*$/.test(v) ||
    /^env:\/\/[A-Za-z_]\w*$/.test(v)
  );
}

/** Environment variable names a setting reads: `.Env.X` fields, `$X`/`${X}`/`$<X>`, `env://X`. */
export function envNamesReferenced(text: string): string[] {
  const names = new Set<string>();
  if (text.includes('{{')) {
    try {
      for (const ref of fieldsUsed(text)) if (ref[0] === 'Env' && ref[1]) names.add(ref[1]);
    } catch {
      // A broken template is reported by the config check; nothing to register.
    }
  }
  if (text.includes('$')) for (const m of text.matchAll(VAR_REF)) names.add((m[1] ?? m[2] ?? m[3])!);
  const env = /^\s*env:\/\/([A-Za-z_]\w*)\s*$/.exec(text);
  if (env) names.add(env[1]!);
  return [...names];
}

function envKeyName(value: string): string[] {
  const m = /^\s*env:\/\/([A-Za-z_]\w*)\s*$/.exec(value);
  return m ? [m[1]!] : [];
}

/** Every string at `pattern` in `node`, with its parent (for signs[].env lookups). */
export function* settingsAt(
  node: unknown,
  pattern: readonly string[],
  parent?: unknown,
): Generator<{ value: unknown; parent: unknown }> {
  if (pattern.length === 0) {
    yield { value: node, parent };
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const [head, ...rest] = pattern;
  if (head === '*') {
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) yield* settingsAt(child, rest, child);
  } else if (!Array.isArray(node) && Object.prototype.hasOwnProperty.call(node, head!)) {
    yield* settingsAt((node as Record<string, unknown>)[head!], rest, rest.length === 0 ? node : parent);
  }
}

/**
 * Registers the secrets the config names (see SECRET_SETTINGS) with the
 * run's redactor. Idempotent; called before the first stage and again after
 * the config's `env:` is rendered.
 */
export function registerConfiguredSecrets(ctx: Context): void {
  const config = ctx.rawConfig ?? (ctx.config as unknown as Record<string, unknown>);
  for (const setting of SECRET_SETTINGS) {
    for (const { value, parent } of settingsAt(config, setting.path)) {
      if (typeof value !== 'string' || value === '') continue;
      // A key setting names a file (not secret) or `env://VAR` (whose value is the key).
      const names = setting.literal ? envNamesReferenced(value) : envKeyName(value);
      if (setting.literal && names.length === 0 && !value.includes('{{')) ctx.redactor.add(value);
      // One level through the entry's own env: `stdin: $PW` with `env: [PW={{ .Env.SIGNING_PW }}]`.
      const entryEnv = parent && typeof parent === 'object' && Array.isArray((parent as { env?: unknown }).env) ? ((parent as { env: unknown[] }).env) : [];
      const seen = new Set<string>();
      const visit = (name: string, hops: number) => {
        if (seen.has(name)) return;
        seen.add(name);
        ctx.redactor.add(ctx.env[name]);
        if (hops === 0) return;
        for (const entry of entryEnv) {
          if (typeof entry !== 'string' || !entry.startsWith(`${name}=`)) continue;
          const rhs = entry.slice(name.length + 1);
          const inner = envNamesReferenced(rhs);
          if (inner.length === 0 && !rhs.includes('{{')) ctx.redactor.add(rhs);
          for (const n of inner) visit(n, hops - 1);
        }
      };
      for (const n of names) visit(n, 1);
    }
  }
}
