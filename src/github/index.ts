// GitHub Release publisher (issue 6): public API.
export {
  publishRelease,
  planUploads,
  mergeBody,
  truncateBody,
  MAX_BODY_LENGTH,
  type PublishReleaseOptions,
  type PublishResult,
  type PublishedAsset,
  type PublishLogger,
  type NotesMode,
  type MakeLatest,
} from './publish.js';
export {
  ReleaseApi,
  prepareAssets,
  uploadAsset,
  sameContent,
  MAX_ASSETS,
  MAX_ASSET_SIZE,
  type AssetInput,
  type LocalAsset,
  type AssetStatus,
  type GhAsset,
  type GhRelease,
  type UploadAssetOptions,
} from './releases.js';
export {
  createGitHubClient,
  RequestPacer,
  withRetry,
  retryDelay,
  realClock,
  DEFAULT_API_URL,
  DEFAULT_PACING,
  DEFAULT_RETRY,
  type Clock,
  type GitHubClient,
  type PacingOptions,
  type RetryOptions,
} from './client.js';
export { contentTypeFor } from './mime.js';
export { UploadProgress, summaryTable, formatBytes } from './progress.js';
export { sealedBox, storeActionsSecrets, type StoreSecretsOptions, type CosignSecrets } from './secrets.js';
