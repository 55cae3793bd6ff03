import { relative, isAbsolute, sep } from 'node:path';

/**
 * What a pipeline produces. Stages never talk to each other directly: they add
 * artifacts here and later stages select them by type and id.
 */
export type ArtifactType =
  | 'binary' // a build output (os/arch set)
  | 'uploadable_binary' // a binary published as-is (archives.formats: [binary])
  | 'archive' // tar.gz / zip / ... made by the archives stage
  | 'source' // git archive of the tag
  | 'checksum' // checksums file (or one per artifact with checksum.split)
  | 'signature' // .sig or bundle (extra.bundle = true)
  | 'certificate'
  | 'file' // release.extra_files and the like
  | 'package' // deb/rpm/apk
  | 'sbom'
  | 'image' // a pushed OCI image (extra.digest)
  | 'manifest' // a pushed OCI image index (extra.digest)
  | 'metadata'; // metadata.json / artifacts.json

export interface Artifact {
  type: ArtifactType;
  /** Name of the asset when published (no directories). */
  name: string;
  /** Where the file is: relative to the project dir when inside it, else absolute. For images: the reference. */
  path: string;
  /** Id of the config entry that produced it (builds[].id, archives[].id, signs[].id...). */
  id?: string;
  os?: string;
  arch?: string;
  arm?: string;
  /** Build target as given in config, e.g. `linux_amd64`. */
  target?: string;
  extra: Record<string, unknown>;
}

/** Types GoReleaser calls ReleaseUploadableTypes: what the release stage uploads. */
export const UPLOADABLE_TYPES: readonly ArtifactType[] = [
  'uploadable_binary',
  'archive',
  'source',
  'checksum',
  'signature',
  'certificate',
  'file',
  'package',
  'sbom',
];

/** Types that `ids` filters never exclude (they are not produced by an id'd config entry). */
const ID_AGNOSTIC: readonly ArtifactType[] = ['checksum', 'source', 'file', 'metadata'];

export interface ArtifactFilter {
  types?: readonly ArtifactType[];
  /** Config ids; empty or undefined means no id filtering. */
  ids?: readonly string[];
  /** Arbitrary extra predicate, ANDed. */
  where?: (a: Artifact) => boolean;
}

export class ArtifactRegistry {
  private readonly items: Artifact[] = [];

  constructor(private readonly baseDir: string = process.cwd()) {}

  /** Registers an artifact; its path is stored relative to the project dir when inside it. */
  add(input: Omit<Artifact, 'extra'> & { extra?: Record<string, unknown> }): Artifact {
    const artifact: Artifact = { ...input, path: this.normalizePath(input), extra: { ...(input.extra ?? {}) } };
    this.items.push(artifact);
    return artifact;
  }

  remove(artifact: Artifact): void {
    const i = this.items.indexOf(artifact);
    if (i >= 0) this.items.splice(i, 1);
  }

  list(): Artifact[] {
    return [...this.items];
  }

  filter(filter: ArtifactFilter = {}): Artifact[] {
    return this.items.filter((a) => {
      if (filter.types && !filter.types.includes(a.type)) return false;
      if (filter.ids && filter.ids.length > 0 && !ID_AGNOSTIC.includes(a.type)) {
        if (a.id === undefined || !filter.ids.includes(a.id)) return false;
      }
      if (filter.where && !filter.where(a)) return false;
      return true;
    });
  }

  /** JSON shape of dist/artifacts.json: forward slashes, no functions. */
  toJSON(): Array<Record<string, unknown>> {
    return this.items.map((a) => {
      const out: Record<string, unknown> = { name: a.name, path: a.path.split(sep).join('/'), type: a.type };
      if (a.id !== undefined) out.id = a.id;
      if (a.os !== undefined) out.os = a.os;
      if (a.arch !== undefined) out.arch = a.arch;
      if (a.arm !== undefined) out.arm = a.arm;
      if (a.target !== undefined) out.target = a.target;
      const extra = Object.fromEntries(Object.entries(a.extra).filter(([, v]) => typeof v !== 'function'));
      if (Object.keys(extra).length > 0) out.extra = extra;
      return out;
    });
  }

  private normalizePath(a: { type: ArtifactType; path: string }): string {
    if (a.type === 'image' || a.type === 'manifest') return a.path;
    if (!isAbsolute(a.path)) return a.path;
    const rel = relative(this.baseDir, a.path);
    return rel.startsWith('..') || isAbsolute(rel) ? a.path : rel;
  }
}
