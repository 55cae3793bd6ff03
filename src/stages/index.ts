import type { Stage } from '../pipeline/stage.js';
import { archiveStage } from './archive/index.js';
import { beforeStage } from './before.js';
import { buildStage } from './build.js';
import { checksumStage } from './checksum.js';
import { cleanStage, distStage } from './dist.js';
import { envAfterGitStage, envStage } from './env.js';
import { gitStage } from './git.js';
import { preflightStage } from './preflight.js';
import { imagesStage } from './images.js';
import { artifactsJsonStage, metadataStage } from './metadata.js';
import { sourceStage } from './source.js';
import { changelogStage } from './changelog.js';
import { manifestStage } from './manifest.js';
import { releaseStage } from './release.js';
import { dockerSignStage, signStage } from './sign/index.js';

/**
 * The release pipeline, in order. Mirrors GoReleaser's: setup → build →
 * archive → checksum → docker → sign → publish. Stages that produce
 * artifacts go between metadata and artifacts.json.
 */
export function releaseStages(): Stage[] {
  return [
    cleanStage,
    envStage,
    gitStage,
    envAfterGitStage,
    preflightStage,
    beforeStage,
    distStage,
    metadataStage,
    // build → archive → source → checksum → docker (images) → sign → docker_sign → manifest → release
    buildStage,
    archiveStage,
    sourceStage,
    checksumStage,
    imagesStage,
    signStage,
    dockerSignStage,
    changelogStage,
    manifestStage,
    releaseStage,
    artifactsJsonStage,
  ];
}
