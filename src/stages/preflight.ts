import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { HookConfig, SignConfig } from '../config/types.js';
import type { RepoRef } from '../oci/client.js';
import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { cosignArgsProblem, isCosignCommand } from '../sigstore/cosign-args.js';
import { render } from '../pipeline/template-data.js';
import { splitArgs } from '../util/argv.js';
import { describeError, RelsignError } from '../util/errors.js';
import { BuiltinSigners } from './sign/builtin.js';
import { cosignArgsProblemAt, cosignInProcess, whichCommand } from './sign/cosign.js';

/** How many problems one preflight reports (each is one line). */
const MAX_PROBLEMS = 50;

/**
 * Before the first build: checks what the release will need and reports every
 * problem at once, so a missing token or a wrong key password fails in the
 * first second rather than after minutes of building. Publishing checks are
 * skipped when nothing is published (--snapshot, --skip publish).
 */
export const preflightStage: Stage = {
  name: 'preflight',
  description: 'checking what the release needs',
  skip: () => false,
  async run(ctx) {
    const problems = await preflightProblems(ctx);
    if (problems.length === 0) return;
    const shown = problems.slice(0, MAX_PROBLEMS);
    if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
    throw new RelsignError(`preflight found ${problems.length} problem${problems.length > 1 ? 's' : ''}: ${shown.join('; ')}`, {
      details: shown.map((p) => `preflight: ${p}`),
    });
  },
};

export async function preflightProblems(ctx: Context): Promise<string[]> {
  const problems: string[] = [];
  // A split only builds: it needs build tools, not keys or a token. A merge signs
  // and publishes what the splits built: it needs keys and a token, not build tools.
  if (ctx.options.phase === 'split') return (await Promise.all([commandProblems(ctx), registryProblems(ctx)])).flat();
  const publishing = !ctx.options.snapshot && !ctx.options.skip.has('publish');
  const checks: Array<Promise<string[]>> = [commandProblems(ctx), signingProblems(ctx), releaseNotesProblems(ctx), registryProblems(ctx)];
  if (publishing) checks.push(githubProblems(ctx));
  for (const found of await Promise.all(checks)) problems.push(...found);
  return problems;
}

async function releaseNotesProblems(ctx: Context): Promise<string[]> {
  const file = ctx.options.releaseNotes;
  if (!file) return [];
  const s = await stat(resolve(ctx.cwd, file)).catch(() => undefined);
  if (!s) return [`--release-notes ${file}: no such file`];
  if (!s.isFile()) return [`--release-notes ${file}: not a file`];
  return [];
}

/** Every program the release will start resolves (builds, hooks, signers not run in-process). */
async function commandProblems(ctx: Context): Promise<string[]> {
  const wanted: Array<{ file: string; where: string; dir: string }> = [];
  const hookFiles = (hooks: readonly HookConfig[], where: string, dir: string) => {
    hooks.forEach((hook, i) => {
      const h = typeof hook === 'string' ? { cmd: hook } : hook;
      if (!Array.isArray(h.cmd) && 'shell' in h && h.shell) {
        wanted.push({ file: 'sh', where: `${where}[${i}]`, dir });
        return;
      }
      const file = firstWord(h.cmd, `${where}[${i}]`);
      const hdir = typeof hook !== 'string' && hook.dir && !hook.dir.includes('{{') ? resolve(ctx.cwd, hook.dir) : dir;
      if (file) wanted.push({ file, where: `${where}[${i}]${typeof hook === 'string' ? '' : '.cmd'}`, dir: hdir });
    });
  };
  const building = ctx.options.phase !== 'merge';
  if (building && !ctx.options.skip.has('before')) hookFiles(ctx.config.before.hooks, 'before.hooks', ctx.cwd);
  const selected = ctx.options.targets;
  if (building) ctx.config.builds.forEach((b, i) => {
    // A split runs only the builds that have one of its targets.
    if (selected && !b.targets.some((t) => selected.has(t))) return;
    const dir = b.dir && !b.dir.includes('{{') ? resolve(ctx.cwd, b.dir) : ctx.cwd;
    if (b.cmd !== undefined && b.prebuilt === undefined) {
      const file = firstWord(b.cmd, `builds[${i}].cmd`);
      if (file) wanted.push({ file, where: `builds[${i}].cmd`, dir });
    }
    hookFiles(b.hooks.pre, `builds[${i}].hooks.pre`, dir);
    hookFiles(b.hooks.post, `builds[${i}].hooks.post`, dir);
  });
  if (!ctx.options.skip.has('sign') && ctx.options.phase !== 'split') {
    for (const [section, entries] of signSections(ctx)) {
      for (const [i, cfg] of entries.entries()) {
        if (cfg.signer !== 'cmd' || !cfg.cmd || cfg.artifacts === 'none') continue;
        if (isCosignCommand(cfg.cmd) && (await cosignInProcess(ctx, cfg))) continue;
        wanted.push({ file: cfg.cmd, where: `${section}[${i}].cmd`, dir: ctx.cwd });
      }
    }
  }
  const problems: string[] = [];
  for (const w of wanted.slice(0, 1000)) {
    if (!(await whichCommand(w.file, ctx.env, w.dir))) problems.push(`${w.where}: command not found: ${w.file}`);
  }
  return problems;
}

/** The program of a command (argv or a line split like a shell would), or undefined when it is a template. */
function firstWord(cmd: string | string[], where: string): string | undefined {
  let first: string | undefined;
  if (Array.isArray(cmd)) first = cmd[0];
  else {
    try {
      first = splitArgs(cmd, where)[0];
    } catch {
      return undefined; // the stage reports a malformed command line itself
    }
  }
  return first && !first.includes('{{') && !first.includes('$') ? first : undefined;
}

function signSections(ctx: Context): Array<[string, SignConfig[]]> {
  const out: Array<[string, SignConfig[]]> = [['signs', ctx.config.signs]];
  if (!ctx.options.skip.has('docker')) out.push(['docker_signs', ctx.config.docker_signs]);
  return out;
}

/**
 * Every key the release signs with loads and decrypts with its password. The
 * signers are cached per run, so the sign stage does not decrypt them again.
 */
async function signingProblems(ctx: Context): Promise<string[]> {
  if (ctx.options.skip.has('sign')) return [];
  const builtin = new BuiltinSigners(ctx);
  const problems: string[] = [];
  for (const [section, entries] of signSections(ctx)) {
    for (const [i, cfg] of entries.entries()) {
      const where = `${section}[${i}]`;
      if (cfg.artifacts === 'none') continue;
      try {
        // A snapshot signs with a throwaway key when its key is missing, written to dist
        // once dist exists: its keys are loaded when signing, not here.
        if (ctx.options.snapshot) {
          if (cfg.signer === 'cmd' && isCosignCommand(cfg.cmd) && (await cosignInProcess(ctx, cfg))) {
            const problem = cosignArgsProblem(cfg.args);
            if (problem) problems.push(`${where}.args: ${problem}`);
          }
          continue;
        }
        // The key the release is verified against before publishing: readable now, not after the upload.
        if (section === 'signs' && cfg.public_key !== undefined && ctx.config.release.verify) {
          const { loadEntryPublicKey } = await import('./release-verify.js');
          await loadEntryPublicKey(ctx, cfg.public_key, where);
        }
        if (cfg.signer === 'builtin') await builtin.signerFor(cfg, where);
        else if (isCosignCommand(cfg.cmd) && (await cosignInProcess(ctx, cfg))) {
          const problem = await cosignArgsProblemAt(ctx, cfg, where, builtin);
          if (problem) problems.push(problem);
        }
      } catch (err) {
        const message = describeError(err).replace(/^relsign: /, '');
        problems.push(message.startsWith(`${where}`) ? message : `${where}: ${message}`);
      }
    }
  }
  return problems;
}

/**
 * Every image repository this run pushes to accepts these credentials for a
 * push: one cancelled upload per repository (nothing is stored), so a missing
 * `docker login` or a token without write access fails before the build. A
 * split checks only the images it builds platforms of.
 */
async function registryProblems(ctx: Context): Promise<string[]> {
  if (ctx.options.snapshot || ctx.options.skip.has('docker') || ctx.config.images.length === 0) return [];
  const { imagePlatforms, imagePushes, renderRepositories } = await import('./images.js');
  const { registryClient } = await import('../pipeline/registry.js');
  const selected = ctx.options.targets;
  const repos = new Map<string, { repo: RepoRef; where: string }>();
  const problems: string[] = [];
  for (const [i, cfg] of ctx.config.images.entries()) {
    const where = `images[${i}]`;
    try {
      if (!imagePushes(ctx, cfg, where)) continue;
      if (selected && !imagePlatforms(cfg, where).some((p) => [...selected].some((t) => t === `${p.os}_${p.arch}` || t.startsWith(`${p.os}_${p.arch}_`)))) continue;
      for (const repo of renderRepositories(ctx, cfg, where)) {
        const key = `${repo.registry}/${repo.repository}`;
        if (!repos.has(key)) repos.set(key, { repo, where });
      }
    } catch (err) {
      problems.push(describeError(err).replace(/^relsign: /, ''));
    }
  }
  const client = registryClient(ctx);
  const found = await Promise.all(
    [...repos.values()].slice(0, 100).map(async ({ repo, where }) => {
      try {
        await client.checkPushAccess(repo);
        return undefined;
      } catch (err) {
        return `${where}: ${describeError(err).replace(/^relsign: /, '')}`;
      }
    }),
  );
  return [...problems, ...found.filter((p): p is string => p !== undefined)];
}

/**
 * A published immutable release for the tag takes no new asset (GitHub refuses
 * it), so a re-run that would add one can only fail at the end. The names a run
 * will certainly upload are known before building: the checksums file and the
 * release manifest. Contents are compared at publish, once they exist; a
 * release that is published but not immutable gets missing assets added in place.
 */
async function publishedReleaseProblems(
  ctx: Context,
  client: import('../github/client.js').GitHubClient,
  owner: string,
  repo: string,
): Promise<string[]> {
  const tag = ctx.git.tag;
  if (!tag) return [];
  let release: { id: number; draft?: boolean; immutable?: boolean; tag_name: string };
  try {
    release = (await client.rest.repos.getReleaseByTag({ owner, repo, tag })).data as typeof release;
  } catch (err) {
    if ((err as { status?: number }).status === 404) return [];
    throw err;
  }
  if (release.draft || !release.immutable) return [];
  const expected: string[] = [];
  const cs = ctx.config.checksum;
  if (!cs.disable && !cs.split) {
    try {
      expected.push(render(ctx, cs.name_template, 'checksum.name_template', { extra: { Algorithm: cs.algorithm } }));
    } catch {
      // the checksum stage reports a bad template itself
    }
  }
  const { manifestName, manifestStage } = await import('./manifest.js');
  try {
    if (!manifestStage.skip(ctx)) expected.push(manifestName(ctx));
  } catch {
    // the manifest stage reports a bad template itself
  }
  if (expected.length === 0) return [];
  const have = new Set<string>();
  const pages = client.paginate.iterator(client.rest.repos.listReleaseAssets, { owner, repo, release_id: release.id, per_page: 100 });
  for await (const page of pages) {
    for (const a of page.data) have.add(a.name);
    if (have.size >= 1000) break; // GitHub's limit per release
  }
  const missing = expected.filter((n) => !have.has(n));
  if (missing.length === 0) return [];
  return [
    `release ${release.tag_name} on ${owner}/${repo} is published and immutable; it has no ${missing.join(', ')}, which this run would add (GitHub refuses new assets there): publish a new tag`,
  ];
}

/** The token is set and can write releases on the repository: one API call. */
async function githubProblems(ctx: Context): Promise<string[]> {
  const token = ctx.env.GITHUB_TOKEN ?? '';
  if (!token.trim()) return ['GITHUB_TOKEN is not set; publishing to GitHub needs a token that can write releases (or use --snapshot / --skip publish)'];
  ctx.redactor.add(token);
  let owner: string;
  let name: string;
  try {
    const { resolveRepository } = await import('./release.js');
    ({ owner, name } = resolveRepository(ctx));
  } catch (err) {
    return [describeError(err).replace(/^relsign: /, '')];
  }
  const { createGitHubClient } = await import('../github/client.js');
  const client = createGitHubClient({
    token,
    ...(ctx.config.github_urls.api ? { apiUrl: ctx.config.github_urls.api } : {}),
    signal: ctx.signal,
  });
  try {
    const res = await client.rest.repos.get({ owner, repo: name });
    const perms = (res.data as { permissions?: { push?: boolean; admin?: boolean } }).permissions;
    if (perms && !perms.push && !perms.admin) return [`GitHub repository ${owner}/${name}: the token cannot write to it (no push permission); releases need contents: write`];
    return await publishedReleaseProblems(ctx, client, owner, name);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404) return [`GitHub repository ${owner}/${name}: repository not found or token lacks access`];
    if (status === 401) return [`GITHUB_TOKEN: rejected by GitHub (401 Bad credentials) for ${owner}/${name}`];
    if (status === 403) return [`GitHub repository ${owner}/${name}: the token is not allowed to read it (403)`];
    return [`GitHub repository ${owner}/${name}: cannot check access (${ctx.redactor.redact((err as Error).message.split('\n')[0] ?? '')})`];
  }
}
