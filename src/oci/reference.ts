import { RelsignError } from '../util/errors.js';

/**
 * Image references with Docker's semantics (distribution/reference): `alpine` is
 * `docker.io/library/alpine`, `ghcr.io/o/r:1.0`, `127.0.0.1:5000/app@sha256:…`.
 * Every pattern below is anchored and applied to one length-capped component at a
 * time, so hostile input cannot make matching slow.
 */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** The name go-containerregistry (and so cosign's `docker-reference`) gives Docker Hub. */
export const DOCKER_HUB_INDEX = 'index.docker.io';

/** distribution/reference caps the whole name (registry/repository) at 255 characters. */
const MAX_NAME = 255;
const MAX_TEXT = 512;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]{2,45}\]$/;
const PORT = /^[0-9]{1,5}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST_ALGOS: Record<string, number> = { sha256: 64, sha512: 128 };

function fail(text: string, why: string): never {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  throw new RelsignError(`invalid image reference ${JSON.stringify(shown)}: ${why}`);
}

/** `sha256:<64 hex>` or `sha512:<128 hex>`; returns a reason when invalid. */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon < 0) return 'digest must be ALGORITHM:HEX';
  const algo = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const len = DIGEST_ALGOS[algo];
  if (len === undefined) return `unsupported digest algorithm ${JSON.stringify(algo.slice(0, 20))} (sha256 or sha512)`;
  if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) return `${algo} digest must be ${len} lowercase hex characters`;
  return undefined;
}

export function isDigest(text: string): boolean {
  return text.length <= 140 && digestProblem(text) === undefined;
}

export function validRegistryHost(host: string): boolean {
  if (host.length === 0 || host.length > MAX_NAME) return false;
  let name = host;
  const bracket = host.startsWith('[') ? host.indexOf(']') : -1;
  if (bracket > 0) {
    name = host.slice(0, bracket + 1);
    const rest = host.slice(bracket + 1);
    if (rest !== '' && !(rest.startsWith(':') && PORT.test(rest.slice(1)))) return false;
    return IPV6_HOST.test(name);
  }
  const colon = host.indexOf(':');
  if (colon >= 0) {
    if (!PORT.test(host.slice(colon + 1))) return false;
    name = host.slice(0, colon);
  }
  const parts = name.split('.');
  return parts.length <= 127 && parts.every((p) => DOMAIN_COMPONENT.test(p));
}

export function validRepository(repository: string): boolean {
  if (repository.length === 0 || repository.length > MAX_NAME) return false;
  const parts = repository.split('/');
  return parts.length <= 128 && parts.every((p) => p.length > 0 && PATH_COMPONENT.test(p));
}

export function validTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Parses `[registry/]repository[:tag][@digest]` the way `docker pull` does. */
export function parseReference(text: string): ImageReference {
  if (typeof text !== 'string' || text.length === 0) fail(String(text ?? ''), 'empty');
  if (text.length > MAX_TEXT) fail(text, `longer than ${MAX_TEXT} characters`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) fail(text, problem);
  }
  // A tag is after the last ':' that follows the last '/' (a ':' before it is a registry port).
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!validTag(tag)) fail(text, `invalid tag ${JSON.stringify(tag.slice(0, 40))} (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (rest.length === 0) fail(text, 'missing repository name');
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // distribution's rule: the first component is a registry if it has a '.' or ':', is
    // `localhost`, or has upper-case letters (repository names cannot).
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!validRegistryHost(registry)) fail(text, `invalid registry host ${JSON.stringify(registry.slice(0, 60))}`);
    }
  }
  if (registry === DOCKER_HUB_INDEX || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!validRepository(repository)) {
    fail(text, 'invalid repository name (lowercase letters, digits and separators . _ __ - between them, components joined by /)');
  }
  if (registry.length + 1 + repository.length > MAX_NAME) fail(text, `name longer than ${MAX_NAME} characters`);
  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** registry/repository[:tag][@digest], the registry always spelled out. */
export function formatReference(r: ImageReference): string {
  let out = `${r.registry}/${r.repository}`;
  if (r.tag) out += `:${r.tag}`;
  if (r.digest) out += `@${r.digest}`;
  return out;
}

/** registry/repository as go-containerregistry's `Repository.Name()` gives it (Docker Hub → index.docker.io). */
export function repositoryName(r: ImageReference): string {
  const registry = r.registry === DOCKER_HUB ? DOCKER_HUB_INDEX : r.registry;
  return `${registry}/${r.repository}`;
}
