// Public library API. Filled as the modules land.
export { ArtifactRegistry } from './pipeline/artifacts.js';
export type { Artifact, ArtifactType, ArtifactFilter } from './pipeline/artifacts.js';
export type { Context, GitInfo, ReleaseOptions } from './pipeline/context.js';
export type { Stage } from './pipeline/stage.js';
export type { RelsignConfig } from './config/types.js';
