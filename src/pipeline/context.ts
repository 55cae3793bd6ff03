import { resolve } from 'node:path';
import type { RelsignConfig } from '../config/types.js';
import { Redactor } from '../util/redact.js';
import { ArtifactRegistry } from './artifacts.js';
import type { Logger } from './logger.js';

/** What the git stage learns. Filled before any other stage runs. */
export interface GitInfo {
  /** Current tag (`v1.2.3`); under --snapshot with no tag, `v0.0.0`. */
  tag: string;
  previousTag: string;
  fullCommit: string;
  shortCommit: string;
  /** Committer date of HEAD. */
  commitDate: Date;
  branch: string;
  dirty: boolean;
  /** Remote URL with any credentials removed; '' when there is no remote. */
  url: string;
  /** `git describe --always --dirty --tags`. */
  summary: string;
  /** A shallow clone: history (and so the previous tag) is incomplete. */
  shallow?: boolean;
}

export interface SemverParts {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  build: string;
}

/** Release flags, as given on the command line. */
export interface ReleaseOptions {
  snapshot: boolean;
  clean: boolean;
  skip: ReadonlySet<string>;
  parallelism: number;
  /** Whole-run timeout in milliseconds. */
  timeoutMs: number;
  draft: boolean;
  releaseNotes?: string;
  failFast: boolean;
  /** release --split: build only these targets (undefined: all). */
  targets?: ReadonlySet<string>;
  /**
   * Which part of a split release this run is: a split builds and neither signs
   * nor publishes; a merge signs and publishes what the splits built. Undefined
   * for a whole release on one machine.
   */
  phase?: 'split' | 'merge';
}

export interface Context {
  /** Project directory (where the config was found, or cwd). Every relative path is relative to it. */
  readonly cwd: string;
  config: RelsignConfig;
  /** Path of the config file that was loaded, if any. */
  configPath?: string;
  /** The config as written, before defaults (to tell "set" from "defaulted"). */
  rawConfig?: Record<string, unknown>;
  options: ReleaseOptions;
  /** Absolute path of the dist folder. */
  distDir: string;
  git: GitInfo;
  semver: SemverParts;
  /** `.Version`: tag without its leading `v`, or the rendered snapshot version. */
  version: string;
  /** Process environment merged with the config's `env:` (rendered). */
  env: Record<string, string>;
  /** Start of the run: `.Date`/`.Timestamp` stay stable for the whole run. */
  readonly date: Date;
  readonly artifacts: ArtifactRegistry;
  readonly log: Logger;
  readonly redactor: Redactor;
  /** Aborted on Ctrl-C or --timeout: long-running work must pass it on (execa `cancelSignal`, fetch `signal`). */
  readonly signal: AbortSignal;
  /** Release notes text, filled by the changelog step or --release-notes. */
  releaseNotes?: string;
}

export function isSkipped(ctx: Context, name: string): boolean {
  return ctx.options.skip.has(name);
}

/** A context with sane defaults, for tests and for commands that run single stages. */
export function createContext(init: {
  cwd: string;
  config: RelsignConfig;
  log: Logger;
  options?: Partial<ReleaseOptions>;
  git?: Partial<GitInfo>;
  env?: Record<string, string>;
  signal?: AbortSignal;
  redactor?: Redactor;
  version?: string;
  date?: Date;
  configPath?: string;
  rawConfig?: Record<string, unknown>;
}): Context {
  const git: GitInfo = {
    tag: 'v0.0.0',
    previousTag: '',
    fullCommit: '0000000000000000000000000000000000000000',
    shortCommit: '0000000',
    commitDate: new Date(0),
    branch: '',
    dirty: false,
    url: '',
    summary: '',
    ...init.git,
  };
  const redactor = init.redactor ?? new Redactor();
  return {
    cwd: init.cwd,
    config: init.config,
    configPath: init.configPath,
    rawConfig: init.rawConfig,
    options: {
      snapshot: false,
      clean: false,
      skip: new Set(),
      parallelism: 4,
      timeoutMs: 3_600_000,
      draft: false,
      failFast: false,
      ...init.options,
    },
    distDir: resolve(init.cwd, init.config.dist),
    git,
    semver: { major: 0, minor: 0, patch: 0, prerelease: '', build: '' },
    version: init.version ?? git.tag.replace(/^v/, ''),
    env: init.env ?? { ...(process.env as Record<string, string>) },
    date: init.date ?? new Date(),
    artifacts: new ArtifactRegistry(init.cwd),
    log: init.log,
    redactor,
    signal: init.signal ?? new AbortController().signal,
  };
}
