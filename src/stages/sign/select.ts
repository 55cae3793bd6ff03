import { UPLOADABLE_TYPES, type Artifact, type ArtifactType } from '../../pipeline/artifacts.js';
import type { Context } from '../../pipeline/context.js';
import type { SignConfig } from '../../config/types.js';

/** What each `artifacts:` value selects (GoReleaser's table; signatures and certificates are never signed). */
export const SIGN_SELECTIONS: Record<string, readonly ArtifactType[]> = {
  none: [],
  checksum: ['checksum'],
  source: ['source'],
  archive: ['archive'],
  binary: ['uploadable_binary'],
  package: ['package'],
  sbom: ['sbom'],
  all: UPLOADABLE_TYPES.filter((t) => t !== 'signature' && t !== 'certificate'),
};

export const DOCKER_SIGN_SELECTIONS: Record<string, readonly ArtifactType[]> = {
  none: [],
  images: ['image'],
  manifests: ['manifest'],
  all: ['image', 'manifest'],
};

/** The artifacts one signs entry covers, in a stable order (by name). */
export function selectArtifacts(ctx: Context, cfg: SignConfig, where: string, docker = false): Artifact[] {
  const table = docker ? DOCKER_SIGN_SELECTIONS : SIGN_SELECTIONS;
  const types = table[cfg.artifacts ?? (docker ? defaultDockerSelection(ctx, cfg) : 'none')] ?? [];
  if ((cfg.artifacts === 'checksum' || cfg.artifacts === 'source') && cfg.ids.length > 0) {
    ctx.log.warn(`${where}: ids has no effect with artifacts: ${cfg.artifacts}`);
  }
  return ctx.artifacts
    .filter({ types, ids: cfg.ids })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * docker_signs without `artifacts:`: sign what users pull. A multi-platform
 * image is pulled through its index, so the indexes are signed when there are
 * any (among the entry's ids); otherwise each image.
 */
function defaultDockerSelection(ctx: Context, cfg: SignConfig): 'manifests' | 'images' {
  return ctx.artifacts.filter({ types: ['manifest'], ids: cfg.ids }).length > 0 ? 'manifests' : 'images';
}
