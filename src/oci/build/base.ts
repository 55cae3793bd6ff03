import type { RegistryClient, RepoRef } from '../client.js';
import { parseReference } from '../reference.js';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
  type Descriptor,
  type Platform,
} from '../types.js';
import { RelsignError, describeError } from '../../util/errors.js';
import type { ImagePlatform } from './platform.js';
import { platformMatches } from './platform.js';

/** What the builder takes from a base image for one platform. */
export interface BasePlatformImage {
  manifestDigest: string;
  /** The base's layer descriptors, kept as they are (Docker media types included). */
  layers: Descriptor[];
  /** The base's image config (parsed JSON). */
  config: Record<string, any>;
}

export interface BaseImage {
  /** As written in the config. */
  text: string;
  repo: RepoRef;
  /** Digest of what the reference resolved to (index or manifest). */
  digest: string;
  platforms: Map<string, BasePlatformImage>;
}

const ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST];
const CONFIG_MAX = 4 << 20;

function describePlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * Resolves a base image reference for each wanted platform: an index is
 * narrowed to the platform's manifest; a single manifest must be for that
 * platform. Only manifests and configs are fetched here; layers stay in the
 * registry until something needs them. `where` is the config path for errors.
 */
export async function resolveBase(
  client: RegistryClient,
  text: string,
  wanted: readonly ImagePlatform[],
  where: string,
): Promise<BaseImage> {
  const ref = parseReference(text);
  const repo: RepoRef = { registry: ref.registry, repository: ref.repository };
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const fail = (msg: string): never => {
    throw new RelsignError(`${where}: base image ${text}: ${msg}`);
  };
  const get = async (r: string) => {
    try {
      return await client.getManifest(repo, r, ACCEPT);
    } catch (err) {
      return fail(describeError(err));
    }
  };
  const top = await get(reference);
  if (!top) return fail('not found in the registry');
  const topType = top.json?.mediaType ?? top.descriptor.mediaType;
  const out: BaseImage = { text, repo, digest: top.descriptor.digest, platforms: new Map() };
  for (const p of wanted) {
    let manifest = top;
    if (topType === OCI_INDEX || topType === DOCKER_MANIFEST_LIST || Array.isArray(top.json?.manifests)) {
      const entries: Descriptor[] = Array.isArray(top.json.manifests) ? top.json.manifests : [];
      const match = entries.find((d) => (d.mediaType === OCI_MANIFEST || d.mediaType === DOCKER_MANIFEST) && platformMatches(d.platform, p.oci));
      if (!match) {
        const has = [...new Set(entries.filter((d) => d.platform).map((d) => describePlatform(d.platform)))].join(', ') || 'none';
        return fail(`has no ${p.name} image (it has: ${has})`);
      }
      const m = await get(match.digest);
      if (!m) return fail(`manifest ${match.digest} for ${p.name} is missing from the registry`);
      manifest = m;
    }
    const mType = manifest.json?.mediaType ?? manifest.descriptor.mediaType;
    if (mType !== OCI_MANIFEST && mType !== DOCKER_MANIFEST) return fail(`unsupported manifest type ${JSON.stringify(String(mType).slice(0, 100))}`);
    const cfgDesc = manifest.json?.config as Descriptor | undefined;
    if (!cfgDesc?.digest) return fail('manifest has no config');
    let config: Record<string, any>;
    try {
      config = JSON.parse((await client.getBlobBytes(repo, cfgDesc.digest, CONFIG_MAX)).toString('utf8')) as Record<string, any>;
    } catch (err) {
      return fail(`cannot read its config: ${describeError(err)}`);
    }
    const have: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    if (!platformMatches(have, p.oci)) return fail(`is a ${describePlatform(have)} image, not ${p.name}`);
    const layers: Descriptor[] = Array.isArray(manifest.json.layers) ? manifest.json.layers : [];
    const diffIds: unknown[] = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== layers.length) return fail(`config lists ${diffIds.length} diff_ids for ${layers.length} layers`);
    out.platforms.set(p.name, {
      manifestDigest: manifest.descriptor.digest,
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.annotations ? { annotations: l.annotations } : {}) })),
      config,
    });
  }
  return out;
}
