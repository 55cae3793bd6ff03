// Public library API: the pipeline pieces, the cosign-compatible signer and the
// GitHub publisher, for tools that want relsign's parts without its CLI.
export { ArtifactRegistry, UPLOADABLE_TYPES } from './pipeline/artifacts.js';
export type { Artifact, ArtifactType, ArtifactFilter } from './pipeline/artifacts.js';
export { createContext } from './pipeline/context.js';
export type { Context, GitInfo, ReleaseOptions } from './pipeline/context.js';
export type { Stage } from './pipeline/stage.js';
export { runStages } from './pipeline/runner.js';
export { releaseStages } from './stages/index.js';
export { loadConfig, ConfigError } from './config/load.js';
export type { RelsignConfig } from './config/types.js';
export { renderTemplate, parseTemplate, renderBool, expandArgVariables, renderWithArgVariables, TemplateError } from './template/index.js';
export * from './sigstore/index.js';
export * from './github/index.js';
export { signImage, SIGNATURE_STORAGES, type SignImageOptions, type SignImageResult, type SignatureStorage } from './oci/sign/index.js';
export { verifyImage, ImageVerificationError, type VerifiedSignature, type VerifyImageOptions } from './oci/verify.js';
export { RelsignError, UsageError } from './util/errors.js';
