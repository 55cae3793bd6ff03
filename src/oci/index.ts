export * from './types.js';
export * from './reference.js';
export * from './credentials.js';
export { parseChallenge, type Challenge } from './auth.js';
export { RegistryClient, MAX_MANIFEST_BYTES, MONOLITHIC_MAX, describeRegistryError, isLoopbackHost, type RepoRef, type RegistryClientOptions } from './client.js';
export type { Backoff } from './http.js';
