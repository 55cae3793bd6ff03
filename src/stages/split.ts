import { join, relative, resolve } from 'node:path';
import type { Context } from '../pipeline/context.js';
import {
  allTargets,
  clearMergeOutputs,
  configDigest,
  describePart,
  loadParts,
  PART_FILE,
  PART_FORMAT,
  type PartContext,
} from '../pipeline/split.js';
import type { Stage } from '../pipeline/stage.js';
import { RelsignError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { archiveStage } from './archive/index.js';
import { beforeStage } from './before.js';
import { buildStage } from './build.js';
import { assertSafeDist, cleanStage, distStage } from './dist.js';
import { envAfterGitStage, envStage } from './env.js';
import { gitStage } from './git.js';
import { imagesStage } from './images.js';
import { releaseStages } from './index.js';
import { metadataStage } from './metadata.js';
import { preflightStage } from './preflight.js';
import { mergeImagesStage, setMergedParts, splitImagesOf, splitImagesStage } from './split-images.js';

/** What a split part records about its run, kept next to the context (set by the CLI). */
export interface SplitRun {
  id: string;
  targets: string[];
  /** Digest of the effective config, computed before anything renders it. */
  digest: string;
}

const splitRuns = new WeakMap<Context, SplitRun>();
export function setSplitRun(ctx: Context, run: SplitRun): void {
  splitRuns.set(ctx, run);
}

/** Writes dist/<split-id>/context.json: the part's identity and every file with its sha256. */
export const splitContextStage: Stage = {
  name: 'split',
  description: 'recording the split part',
  skip: () => false,
  async run(ctx) {
    const run = splitRuns.get(ctx);
    if (!run) throw new RelsignError('split: no split selection (internal)');
    const part: PartContext = {
      format: PART_FORMAT,
      split_id: run.id,
      project_name: ctx.config.project_name,
      tag: ctx.git.tag,
      commit: ctx.git.fullCommit,
      version: ctx.version,
      config_digest: run.digest,
      targets: run.targets,
      artifacts: await describePart(ctx.distDir, ctx.cwd, ctx.artifacts.list()),
    };
    const images = splitImagesOf(ctx);
    if (images.length > 0) part.images = images;
    await writeFileAtomic(join(ctx.distDir, PART_FILE), JSON.stringify(part, null, 2) + '\n');
    ctx.log.info(`  part ${run.id}: ${run.targets.join(', ')} (${part.artifacts.length} files)`);
  },
};

/**
 * `release --split`: setup, build and archive for this runner's targets, into
 * dist/<split-id>/ (the context's distDir), then context.json. No checksums,
 * signatures, images or publishing: those need every target, and the
 * signing key and token, which only the merge job holds.
 */
export function splitStages(): Stage[] {
  return [cleanStage, envStage, gitStage, envAfterGitStage, preflightStage, beforeStage, distStage, buildStage, archiveStage, splitImagesStage, splitContextStage];
}

/**
 * Reads and checks every part under dist, then registers their artifacts as
 * if this run had built them. Nothing is written before every part passed.
 */
export const mergePartsStage: Stage = {
  name: 'merge',
  description: 'merging split parts',
  skip: () => false,
  async run(ctx) {
    await assertSafeDist(ctx);
    const distShown = relative(ctx.cwd, ctx.distDir) || '.';
    const parts = await loadParts({
      distDir: ctx.distDir,
      distShown,
      expected: { tag: ctx.git.tag, commit: ctx.git.fullCommit, digest: configDigest(ctx.config), targets: allTargets(ctx.config) },
    });
    if (parts[0]!.context.version !== ctx.version) {
      throw new RelsignError(`continue --merge: parts were built as version ${parts[0]!.context.version}, this run is ${ctx.version}; refusing to merge`);
    }
    setMergedParts(ctx, parts);
    const cleared = await clearMergeOutputs(ctx.distDir, parts);
    if (cleared > 0) ctx.log.info(`  removed ${cleared} file(s) written by an earlier merge here`);
    // Config order (builds, then archives), as a single run registers them: artifacts.json and the release match.
    const all = parts.flatMap((p) => p.context.artifacts.map((a) => ({ a, dir: p.dir })));
    const order = (a: { type: string }) => (a.type === 'binary' ? 0 : 1);
    const targets = [...new Set(ctx.config.builds.flatMap((b) => b.targets))];
    const ids = ctx.config.builds.map((b) => b.id);
    all.sort(
      (x, y) =>
        order(x.a) - order(y.a) ||
        (x.a.type === 'binary' ? ids.indexOf(x.a.id ?? '') - ids.indexOf(y.a.id ?? '') : 0) ||
        targets.indexOf(x.a.target ?? '') - targets.indexOf(y.a.target ?? ''),
    );
    for (const { a, dir } of all) {
      ctx.artifacts.add({
        type: a.type,
        name: a.name,
        path: resolve(dir, ...a.path.split('/')),
        ...(a.id !== undefined ? { id: a.id } : {}),
        ...(a.os !== undefined ? { os: a.os } : {}),
        ...(a.arch !== undefined ? { arch: a.arch } : {}),
        ...(a.arm !== undefined ? { arm: a.arm } : {}),
        ...(a.target !== undefined ? { target: a.target } : {}),
        extra: { ...a.extra },
      });
    }
    ctx.log.info(`  ${parts.length} part(s): ${parts.map((p) => p.context.split_id).join(', ')}; ${all.length} files, every target present once`);
  },
};

/**
 * Stages of the release list that a merge does not run: the splits cleaned,
 * ran the before hooks, built and archived; a merge's inputs are checked by
 * the merge stage. Preflight runs: it checks what a merge needs (keys,
 * token, registries), not the build tools. env
 * and git run again: the merge needs the version, commit and environment.
 */
const NOT_IN_MERGE: ReadonlySet<Stage> = new Set([cleanStage, beforeStage, distStage, buildStage, archiveStage]);

/**
 * `continue --merge`: the release list minus what the splits ran, with the
 * merge stage (the parts' artifacts) where the run's own artifacts start and
 * images assembled from the parts' platforms: source archive → checksums →
 * images (index and tags) → signatures → changelog → release. A stage added
 * to the release list runs in merges too.
 */
export function mergeStages(): Stage[] {
  const out: Stage[] = [];
  for (const stage of releaseStages()) {
    if (NOT_IN_MERGE.has(stage)) continue;
    if (stage === metadataStage) out.push(mergePartsStage);
    out.push(stage === imagesStage ? mergeImagesStage : stage);
  }
  return out;
}
