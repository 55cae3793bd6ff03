import { rfc3339 } from '../../pipeline/template-data.js';
import { mapLimit } from '../../util/concurrency.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from '../types.js';
import type { BaseImage } from './base.js';
import { writeLayer } from './layer.js';
import type { OciLayout } from './layout.js';
import type { ImagePlatform } from './platform.js';
import type { TarEntry } from './tar.js';

/** Everything that decides an image's bytes. Same spec (and base) → same digests. */
export interface ImageSpec {
  platforms: ReadonlyArray<{ platform: ImagePlatform; entries: TarEntry[] }>;
  /** The commit date: layer mtimes, config `created`, history. */
  created: Date;
  base?: BaseImage;
  /** Set (even to []) replaces the base's entrypoint and, as in a Dockerfile, its cmd. */
  entrypoint?: string[];
  cmd?: string[];
  /** `KEY=VALUE`, merged over the base's by key. */
  env: string[];
  workdir?: string;
  user?: string;
  labels: Record<string, string>;
  /** Put on every manifest and on the index. */
  annotations: Record<string, string>;
}

export interface BuiltManifest {
  platform: ImagePlatform;
  /** With `platform` set, as listed in the index. */
  descriptor: Descriptor;
  bytes: Buffer;
  config: Descriptor;
  /** Every layer, base layers first. */
  layers: Descriptor[];
  /** The base's layers (not written by us; they may be absent from the layout). */
  baseLayers: Descriptor[];
}

export interface BuiltImage {
  manifests: BuiltManifest[];
  /** Present when there is more than one platform. */
  index?: { descriptor: Descriptor; bytes: Buffer };
  /** What tags point at: the index, or the only manifest. */
  top: { descriptor: Descriptor; bytes: Buffer };
}

export const CREATED_BY = 'relsign';

/** Docker's rule for ENV: a later KEY replaces an earlier one in place; new keys are appended. */
export function mergeEnv(base: readonly string[], ours: readonly string[]): string[] {
  const out = [...base];
  for (const entry of ours) {
    const key = entry.slice(0, entry.indexOf('='));
    const i = out.findIndex((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) === key);
    if (i >= 0) out[i] = entry;
    else out.push(entry);
  }
  return out;
}

/** The new image config: the base's (unknown fields kept) with our layer, settings and platform. */
export function imageConfig(spec: ImageSpec, p: ImagePlatform, diffId: string, baseConfig?: Record<string, any>): Record<string, unknown> {
  const created = rfc3339(spec.created);
  const cfg: Record<string, any> = baseConfig
    ? structuredClone(baseConfig)
    : { architecture: p.oci.architecture, os: p.oci.os };
  cfg.architecture = p.oci.architecture;
  cfg.os = p.oci.os;
  if (p.oci.variant) cfg.variant = p.oci.variant;
  else delete cfg.variant;
  cfg.created = created;
  const c: Record<string, any> = { ...(baseConfig?.config ?? {}) };
  const env = mergeEnv(Array.isArray(c.Env) ? c.Env : [], spec.env);
  if (env.length > 0) c.Env = env;
  if (spec.entrypoint !== undefined) {
    c.Entrypoint = spec.entrypoint;
    // A Dockerfile's ENTRYPOINT resets the base's CMD: the base's arguments were meant for its own program.
    if (spec.cmd !== undefined) c.Cmd = spec.cmd;
    else delete c.Cmd;
  } else if (spec.cmd !== undefined) c.Cmd = spec.cmd;
  if (spec.workdir !== undefined) c.WorkingDir = spec.workdir;
  if (spec.user !== undefined) c.User = spec.user;
  const labels = { ...(c.Labels ?? {}), ...spec.labels };
  if (Object.keys(labels).length > 0) c.Labels = sortKeys(labels);
  cfg.config = c;
  cfg.rootfs = { type: 'layers', diff_ids: [...(baseConfig?.rootfs?.diff_ids ?? []), diffId] };
  cfg.history = [...(Array.isArray(baseConfig?.history) ? baseConfig.history : []), { created, created_by: CREATED_BY, comment: 'binaries and files' }];
  return cfg;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The index over platform manifests, as `buildImage` writes it: a merge of
 * split parts assembles the same bytes (and so the same digest) from the
 * descriptors and annotations the parts pushed.
 */
export function imageIndex(descriptors: readonly Descriptor[], annotations: Record<string, string>): Buffer {
  const sorted = sortKeys(annotations);
  return json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: descriptors,
    ...(Object.keys(sorted).length > 0 ? { annotations: sorted } : {}),
  });
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Builds the image into `layout`: per platform one layer (ours), a config
 * and a manifest; an index over them when there are several platforms.
 * Does not write index.json (the caller does, once it knows the layout is
 * as complete as it will be) and does not download base layers.
 */
export async function buildImage(layout: OciLayout, spec: ImageSpec, parallelism: number): Promise<BuiltImage> {
  await layout.init();
  const annotations = sortKeys(spec.annotations);
  const manifests = await mapLimit(spec.platforms, parallelism, async ({ platform, entries }): Promise<BuiltManifest> => {
    const base = spec.base?.platforms.get(platform.name);
    const tmp = layout.tempBlobPath();
    const layer = await writeLayer(entries, spec.created, tmp);
    await layout.commitBlob(tmp, layer.digest);
    const ours: Descriptor = { mediaType: OCI_LAYER_GZIP, digest: layer.digest, size: layer.size };
    const config = await layout.writeBytes(json(imageConfig(spec, platform, layer.diffId, base?.config)), OCI_CONFIG);
    const baseLayers = base?.layers ?? [];
    const layers = [...baseLayers, ours];
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
    const bytes = json(manifest);
    const written = await layout.writeBytes(bytes, OCI_MANIFEST);
    return { platform, descriptor: { ...written, platform: platform.oci }, bytes, config, layers, baseLayers };
  });
  if (manifests.length === 1) {
    const only = manifests[0]!;
    const { platform: _omit, ...descriptor } = only.descriptor;
    return { manifests, top: { descriptor, bytes: only.bytes } };
  }
  const bytes = imageIndex(manifests.map((m) => m.descriptor), annotations);
  const descriptor = await layout.writeBytes(bytes, OCI_INDEX);
  return { manifests, index: { descriptor, bytes }, top: { descriptor, bytes } };
}
