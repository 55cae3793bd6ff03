import { constants } from 'node:fs';
import { access, copyFile, chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { execa } from 'execa';
import type { BuildConfig } from '../config/types.js';
import type { Artifact } from '../pipeline/artifacts.js';
import type { Context } from '../pipeline/context.js';
import { runHooks } from '../pipeline/hooks.js';
import type { Stage } from '../pipeline/stage.js';
import { render, renderFlag } from '../pipeline/template-data.js';
import { splitArgs } from '../util/argv.js';
import { mapLimit } from '../util/concurrency.js';
import { RelsignError } from '../util/errors.js';

/** A build target such as `linux_amd64` or `linux_arm_7`, split into its parts. */
export interface Target {
  target: string;
  os: string;
  arch: string;
  /** ARM version for `arch: arm` (`linux_arm_7` → `7`), else ''. */
  arm: string;
  /** Third part for other arches (`linux_amd64_v3` → `v3`), else ''. */
  variant: string;
}

export function parseTarget(target: string, where: string): Target {
  const parts = target.split('_');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new RelsignError(`${where}: invalid target ${JSON.stringify(target)} (expected os_arch or os_arch_variant, e.g. linux_amd64, linux_arm_7)`);
  }
  const [os, arch, third = ''] = parts as [string, string, string?];
  return { target, os, arch, arm: arch === 'arm' ? third : '', variant: arch === 'arm' ? '' : third };
}

/** `dist/<id>_<os>_<arch>[_<arm>]/` — the default folder of a target's binary. */
export function defaultOutputDir(id: string, t: Target): string {
  return [id, t.os, t.arch, t.arm || t.variant].filter(Boolean).join('_');
}

export function withExe(name: string, os: string): string {
  return os === 'windows' && !name.toLowerCase().endsWith('.exe') ? `${name}.exe` : name;
}

/** Throws unless `path` (absolute) lies inside `root`. */
function assertInside(root: string, path: string, what: string): void {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new RelsignError(`${what}: ${JSON.stringify(path)} is outside the dist folder ${root}`);
  }
}

interface Job {
  build: BuildConfig;
  index: number;
  target: Target;
}

/**
 * builds: runs each build's command once per target (no shell), in parallel
 * up to --parallelism, and registers every output as a `binary` artifact.
 */
export const buildStage: Stage = {
  name: 'build',
  description: 'building binaries',
  skip(ctx) {
    return ctx.config.builds.length === 0 ? 'no builds configured' : false;
  },
  async run(ctx) {
    const ids = new Set<string>();
    for (const [i, b] of ctx.config.builds.entries()) {
      if (ids.has(b.id)) throw new RelsignError(`builds[${i}].id: found 2 builds with the id ${JSON.stringify(b.id)}`);
      ids.add(b.id);
      if (b.cmd === undefined && b.prebuilt === undefined) throw new RelsignError(`builds[${i}]: set either cmd or prebuilt`);
      if (b.cmd !== undefined && b.prebuilt !== undefined) throw new RelsignError(`builds[${i}]: cmd and prebuilt are exclusive`);
    }
    const jobs: Job[] = [];
    for (const [index, build] of ctx.config.builds.entries()) {
      const seen = new Set<string>();
      for (const [k, t] of build.targets.entries()) {
        if (seen.has(t)) continue;
        seen.add(t);
        // release --split builds only its share of the targets.
        if (ctx.options.targets && !ctx.options.targets.has(t)) continue;
        jobs.push({ build, index, target: parseTarget(t, `builds[${index}].targets[${k}]`) });
      }
    }
    // Work out every output path before running anything, so two targets can't overwrite each other.
    const planned = jobs.map((job) => plan(ctx, job));
    const byOutput = new Map<string, Planned>();
    for (const p of planned) {
      if (p.skip) continue;
      const other = byOutput.get(p.output);
      if (other) {
        throw new RelsignError(
          `${p.where}: output ${relative(ctx.cwd, p.output)} is also the output of ${other.where}; make builds[].output or binary differ per target`,
        );
      }
      byOutput.set(p.output, p);
    }
    const results = await mapLimit(planned, ctx.options.parallelism, (p) => runJob(ctx, p));
    // Registered in config order (not completion order), so artifacts.json is stable.
    for (const a of results) if (a) ctx.artifacts.add(a);
  },
};

interface Planned extends Job {
  where: string;
  skip: boolean;
  binary: string;
  output: string;
  /** Fields the templates of this target see (Os, Arch, Binary, ...). */
  artifact: Artifact;
}

function plan(ctx: Context, job: Job): Planned {
  const { build, index, target: t } = job;
  const where = `builds[${index}] (id ${build.id}, ${t.target})`;
  const base: Artifact = {
    type: 'binary',
    name: '',
    path: '',
    id: build.id,
    os: t.os,
    arch: t.arch,
    ...(t.arm ? { arm: t.arm } : {}),
    target: t.target,
    extra: {},
  };
  const skip = renderFlag(ctx, build.skip, `builds[${index}].skip`, { artifact: base });
  const binaryName = render(ctx, build.binary, `builds[${index}].binary`, { artifact: base });
  if (!binaryName) throw new RelsignError(`builds[${index}].binary: rendered to an empty name`);
  const binary = withExe(binaryName, t.os);
  const artifact: Artifact = { ...base, name: binary, extra: { binary: binaryName, ...(t.os === 'windows' ? { ext: '.exe' } : {}) } };
  const outRel = build.output
    ? render(ctx, build.output, `builds[${index}].output`, { artifact })
    : `${defaultOutputDir(build.id, t)}/${binary}`;
  const output = resolve(ctx.distDir, outRel);
  assertInside(ctx.distDir, output, `builds[${index}].output`);
  artifact.path = output;
  return { ...job, where, skip, binary, output, artifact };
}

async function runJob(ctx: Context, p: Planned): Promise<Artifact | undefined> {
  const { build, index, target: t } = p;
  if (p.skip) {
    ctx.log.info(`  skipped ${p.where}`);
    return undefined;
  }
  const cfgPath = `builds[${index}]`;
  const tmplOpts = { artifact: p.artifact };
  // Build env: process + config env, the target variables, then the build's own env (templated, in order).
  const targetEnv: Record<string, string> = {
    GOOS: t.os,
    GOARCH: t.arch,
    ...(t.arm ? { GOARM: t.arm } : {}),
    ...(t.arch === 'amd64' && t.variant ? { GOAMD64: t.variant } : {}),
  };
  const env: Record<string, string> = { ...ctx.env, ...targetEnv };
  for (const [j, entry] of build.env.entries()) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new RelsignError(`${cfgPath}.env[${j}]: expected KEY=VALUE, got ${JSON.stringify(entry)}`);
    env[entry.slice(0, eq)] = render(ctx, entry.slice(eq + 1), `${cfgPath}.env[${j}]`, { ...tmplOpts, env });
    ctx.redactor.addEnv(entry.slice(0, eq), env[entry.slice(0, eq)]);
  }
  Object.assign(env, {
    RELSIGN_OS: t.os,
    RELSIGN_ARCH: t.arch,
    RELSIGN_ARM: t.arm,
    RELSIGN_TARGET: t.target,
    RELSIGN_OUTPUT: p.output,
    RELSIGN_BINARY: p.binary,
  });
  const buildEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('RELSIGN_') || k in targetEnv || build.env.some((e) => e.startsWith(`${k}=`))));
  const templateExtra = { Os: t.os, Arch: t.arch, Arm: t.arm, Target: t.target, Binary: p.artifact.extra.binary, Output: p.output };

  await mkdir(dirname(p.output), { recursive: true });
  await runHooks(ctx, build.hooks.pre, `${cfgPath}.hooks.pre`, { extraEnv: buildEnv, templateExtra });

  if (build.prebuilt !== undefined) {
    const src = resolve(ctx.cwd, render(ctx, build.prebuilt, `${cfgPath}.prebuilt`, { ...tmplOpts, env }));
    const st = await stat(src).catch(() => undefined);
    if (!st?.isFile()) throw new RelsignError(`${cfgPath}.prebuilt: ${relative(ctx.cwd, src) || src} does not exist or is not a file (${t.target})`);
    if (src !== p.output) await copyFile(src, p.output);
    ctx.log.info(`  prebuilt ${relative(ctx.cwd, src)} → ${relative(ctx.cwd, p.output)}`);
  } else {
    await runCommand(ctx, p, env, tmplOpts);
  }

  const st = await stat(p.output).catch(() => undefined);
  if (!st) {
    throw new RelsignError(
      `${p.where}: the build command succeeded but did not write ${relative(ctx.cwd, p.output)}; write the binary to $RELSIGN_OUTPUT`,
    );
  }
  if (!st.isFile()) throw new RelsignError(`${p.where}: ${relative(ctx.cwd, p.output)} is not a regular file`);
  // Make sure the result is executable for the user, whatever the tool did (archives normalize it anyway).
  await access(p.output, constants.X_OK).catch(() => chmod(p.output, st.mode | 0o755));

  await runHooks(ctx, build.hooks.post, `${cfgPath}.hooks.post`, { extraEnv: buildEnv, templateExtra });
  return { ...p.artifact, extra: { ...p.artifact.extra } };
}

async function runCommand(ctx: Context, p: Planned, env: Record<string, string>, tmplOpts: { artifact: Artifact }): Promise<void> {
  const { build, index } = p;
  const cfgPath = `builds[${index}]`;
  let argv: string[];
  if (Array.isArray(build.cmd)) {
    argv = build.cmd.map((part, k) => render(ctx, part, `${cfgPath}.cmd[${k}]`, { ...tmplOpts, env }));
  } else {
    argv = splitArgs(render(ctx, build.cmd ?? '', `${cfgPath}.cmd`, { ...tmplOpts, env }), `${cfgPath}.cmd`);
  }
  const [file, ...args] = argv;
  if (!file) throw new RelsignError(`${cfgPath}.cmd: empty command`);
  const cwd = build.dir ? resolve(ctx.cwd, render(ctx, build.dir, `${cfgPath}.dir`, { ...tmplOpts, env })) : ctx.cwd;
  const shown = ctx.redactor.redact([file, ...args].join(' '));
  ctx.log.info(`  building ${p.target.target} (${build.id}): ${shown}`);
  const r = await execa(file, args, {
    cwd,
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    cancelSignal: ctx.signal,
    stripFinalNewline: true,
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  if (ctx.log.verbose) {
    for (const line of [stdout, stderr].filter(Boolean).join('\n').split('\n')) if (line) ctx.log.debug(`  ${line}`);
  }
  if (r.failed) {
    if (r.isCanceled) throw new RelsignError(`${p.where}: build cancelled`);
    const code = (r as { code?: string }).code;
    if (code === 'ENOENT') throw new RelsignError(`${p.where}: command not found: ${file} (builds[${index}].cmd)`);
    const tail = (stderr.trim() ? stderr : stdout).trimEnd().split('\n').slice(-20);
    if (!ctx.log.verbose) for (const line of tail) if (line) ctx.log.error(`  ${line}`);
    const why =
      r.exitCode !== undefined
        ? `exit code ${r.exitCode}`
        : r.signal
          ? `signal ${r.signal}`
          : code === 'EACCES'
            ? 'EACCES: permission denied'
            : (code ?? String(r.shortMessage ?? 'failed').split('\n')[0]);
    // The tail went to the log above (or all output with --verbose); the error itself stays one line.
    throw new RelsignError(`build ${build.id} failed for ${p.target.target} (${why}): ${shown}`);
  }
}
