import { join } from 'node:path';
import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { rfc3339 } from '../pipeline/template-data.js';
import { writeFileAtomic } from '../util/fs.js';
import { isPlainReference, SECRET_SETTINGS, settingsAt } from '../pipeline/secrets.js';
import { looksLikeSecretName } from '../util/redact.js';

/** dist/metadata.json: what was released, written early so a failed run still says what it was. */
export const metadataStage: Stage = {
  name: 'metadata',
  description: 'writing metadata',
  skip: () => false,
  async run(ctx) {
    const metadata = {
      project_name: ctx.config.project_name,
      tag: ctx.git.tag,
      previous_tag: ctx.git.previousTag,
      version: ctx.version,
      commit: ctx.git.fullCommit,
      date: rfc3339(ctx.date),
      runtime: { os: process.platform, arch: process.arch, node: process.version },
    };
    const path = join(ctx.distDir, 'metadata.json');
    await writeFileAtomic(path, JSON.stringify(metadata, null, 2) + '\n');
    ctx.artifacts.add({ type: 'metadata', name: 'metadata.json', path });

    const { stringify } = await import('yaml');
    const effective = ctx.redactor.redact(stringify(redactConfig(ctx.config), { lineWidth: 0 }));
    await writeFileAtomic(join(ctx.distDir, 'config.yaml'), effective);
  },
};

/** Keys whose values are secrets by nature, whatever their content, wherever they are. */
const SECRET_KEYS = new Set(['password', 'stdin', 'token']);

/**
 * The effective config with secrets replaced: secret-named keys, the secret
 * settings (SECRET_SETTINGS, e.g. registries[].username), and env entries
 * whose names look secret. References (`{{ .Env.X }}`, `$X`, `env://X`) are
 * kept: they name a secret without being one, which helps debugging. Values
 * registered with the redactor are replaced again when the file is written.
 */
export function redactConfig(value: unknown): unknown {
  const out = redactTree(value, '');
  for (const setting of SECRET_SETTINGS) {
    if (!setting.literal) continue;
    const last = setting.path[setting.path.length - 1]!;
    for (const { parent } of settingsAt(out, setting.path)) {
      const obj = parent as Record<string, unknown>;
      const v = obj[last];
      if (typeof v === 'string' && v !== '' && !isPlainReference(v)) obj[last] = '[REDACTED]';
    }
  }
  return out;
}

function redactTree(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => {
      if (key === 'env' && typeof v === 'string') {
        const eq = v.indexOf('=');
        if (eq > 0 && looksLikeSecretName(v.slice(0, eq))) return `${v.slice(0, eq)}=[REDACTED]`;
      }
      return redactTree(v, '');
    });
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, SECRET_KEYS.has(k) && typeof v === 'string' && !isPlainReference(v) ? '[REDACTED]' : redactTree(v, k)]),
    );
  }
  return value;
}

export const artifactsJsonStage: Stage = {
  name: 'artifacts',
  description: 'writing artifacts.json',
  skip: () => false,
  async run(ctx: Context) {
    await writeArtifactsJson(ctx);
  },
};

export async function writeArtifactsJson(ctx: Context): Promise<void> {
  const text = ctx.redactor.redact(JSON.stringify(ctx.artifacts.toJSON(), null, 2) + '\n');
  await writeFileAtomic(join(ctx.distDir, 'artifacts.json'), text);
}
