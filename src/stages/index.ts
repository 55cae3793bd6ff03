import type { Stage } from '../pipeline/stage.js';
import { beforeStage } from './before.js';
import { cleanStage, distStage } from './dist.js';
import { envStage } from './env.js';
import { gitStage } from './git.js';
import { artifactsJsonStage, metadataStage } from './metadata.js';

/**
 * The release pipeline, in order. Mirrors GoReleaser's: setup → build →
 * archive → checksum → sign → docker → publish. Stages that produce
 * artifacts go between metadata and artifacts.json.
 */
export function releaseStages(): Stage[] {
  return [
    cleanStage,
    envStage,
    gitStage,
    beforeStage,
    distStage,
    metadataStage,
    // build → archive → source → checksum → sign → docker → docker_sign → release
    artifactsJsonStage,
  ];
}
