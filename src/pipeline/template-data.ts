import { extname } from 'node:path';
import { renderBool, renderTemplate, TemplateError } from '../template/index.js';
import { RelsignError } from '../util/errors.js';
import type { Artifact } from './artifacts.js';
import type { Context } from './context.js';

/** Go's RFC 3339 (time.RFC3339 in UTC): no fractional seconds. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const MULTI_EXT = ['.tar.gz', '.tar.xz', '.tar.zst', '.tar.bz2'];
export function artifactExt(name: string): string {
  const lower = name.toLowerCase();
  return MULTI_EXT.find((e) => lower.endsWith(e)) ?? extname(name);
}

/**
 * The template fields of a run (docs/templates.md lists them), optionally
 * with one artifact's fields. Built fresh per call: cheap, and the env may
 * differ per call (signer env overrides).
 */
export function templateData(
  ctx: Context,
  options: { artifact?: Artifact; env?: Record<string, string>; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const { git, semver } = ctx;
  const data: Record<string, unknown> = {
    ProjectName: ctx.config.project_name,
    Version: ctx.version,
    RawVersion: `${semver.major}.${semver.minor}.${semver.patch}`,
    Tag: git.tag,
    PreviousTag: git.previousTag,
    Major: semver.major,
    Minor: semver.minor,
    Patch: semver.patch,
    Prerelease: semver.prerelease,
    Branch: git.branch,
    FullCommit: git.fullCommit,
    Commit: git.fullCommit,
    ShortCommit: git.shortCommit,
    CommitDate: rfc3339(git.commitDate),
    CommitTimestamp: Math.floor(git.commitDate.getTime() / 1000),
    Date: rfc3339(ctx.date),
    Timestamp: Math.floor(ctx.date.getTime() / 1000),
    Env: options.env ?? ctx.env,
    IsSnapshot: ctx.options.snapshot,
    IsDraft: ctx.options.draft || ctx.config.release.draft,
    IsGitDirty: git.dirty,
    IsGitClean: !git.dirty,
    GitTreeState: git.dirty ? 'dirty' : 'clean',
    GitURL: git.url,
    Summary: git.summary,
    ReleaseNotes: ctx.releaseNotes ?? '',
  };
  const a = options.artifact;
  if (a) {
    data.Os = a.os ?? '';
    data.Arch = a.arch ?? '';
    data.Arm = a.arm ?? '';
    data.Target = a.target ?? '';
    data.Binary = typeof a.extra.binary === 'string' ? a.extra.binary : ctx.config.project_name;
    data.ArtifactName = a.name;
    data.ArtifactPath = a.path;
    data.ArtifactExt = artifactExt(a.name);
    data.ArtifactID = a.id ?? '';
  }
  if (options.extra) Object.assign(data, options.extra);
  return data;
}

/** Renders a config template; `name` is the config path shown in errors (`archives[0].name_template`). */
export function render(
  ctx: Context,
  text: string,
  name: string,
  options: { artifact?: Artifact; env?: Record<string, string>; extra?: Record<string, unknown> } = {},
): string {
  return asUserError(() => renderTemplate(text, templateData(ctx, options), { name }));
}

export function renderFlag(
  ctx: Context,
  value: boolean | string | undefined,
  name: string,
  options: { artifact?: Artifact; env?: Record<string, string> } = {},
): boolean {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  return asUserError(() => renderBool(value, templateData(ctx, options), { name }));
}

/** A template mistake is the user's to fix: report it as one line, not as an internal error. */
export function asUserError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TemplateError) throw new RelsignError(err.message, { cause: err });
    throw err;
  }
}
