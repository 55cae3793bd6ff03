import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { RelsignError, UsageError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { githubWorkflow, gitlabJob } from './ci.js';
import { nativeBuildIds, renderConfig, type InitOptions } from './config.js';
import { detectProject } from './detect.js';

export interface InitFlags {
  github: boolean;
  gitlab: boolean;
  /** With --github / --gitlab: a split matrix workflow (release --split per runner, continue --merge once). */
  split?: boolean;
  force: boolean;
  from?: string;
  output: string;
  image?: string;
  keyless: boolean;
}

/** The largest GoReleaser config `--from` reads. */
const MAX_FROM_BYTES = 1024 * 1024;

interface PlannedFile {
  path: string;
  text: string;
}

/**
 * `relsign init`: writes relsign.config.yaml (detected, or converted with
 * --from) and, with --github / --gitlab, the CI workflow. Nothing is written
 * unless every file can be: an existing file without --force stops the run first.
 */
export async function runInit(cwd: string, flags: InitFlags, version: string, out: (line: string) => void): Promise<void> {
  if (flags.image !== undefined && !/^[a-z0-9][a-z0-9.:_/-]*$/i.test(flags.image)) {
    throw new UsageError(`--image ${JSON.stringify(flags.image)}: expected an image repository such as ghcr.io/OWNER/NAME`);
  }
  const info = await detectProject(cwd);
  const options: InitOptions = { keyless: flags.keyless, ...(flags.image !== undefined ? { image: flags.image } : {}) };
  if (options.image && nativeBuildIds(info).length === 0 && !flags.from) {
    throw new UsageError('--image: no Go or Cargo binary found to put in an image (images take the Linux binaries of builds)');
  }

  const files: PlannedFile[] = [];
  const configPath = resolve(cwd, flags.output);
  if (flags.from) {
    const fromPath = resolve(cwd, flags.from);
    const st = await stat(fromPath).catch(() => undefined);
    if (!st?.isFile()) throw new RelsignError(`--from ${flags.from}: no such file`);
    if (st.size > MAX_FROM_BYTES) throw new RelsignError(`--from ${flags.from}: larger than 1 MiB, not a GoReleaser config`);
    const { convertGoreleaser } = await import('./goreleaser.js');
    const converted = await convertGoreleaser(await readFile(fromPath, 'utf8'), flags.from);
    files.push({ path: configPath, text: converted.text });
    for (const u of converted.unmapped) out(`not converted: ${flags.from}:${u.line}: ${u.key}: ${u.reason}`);
  } else {
    files.push({ path: configPath, text: renderConfig(info, options) });
  }
  if (flags.split && !flags.github && !flags.gitlab) throw new UsageError('--split needs --github or --gitlab (it writes the split CI workflow)');
  const split = flags.split ? await import('./split-workflow.js') : undefined;
  const targets = split ? split.configTargets(files[0]!.text) : [];
  if (flags.github) {
    const text = split ? split.githubSplitWorkflow(info, options, version, targets) : githubWorkflow(info, options, version);
    files.push({ path: resolve(cwd, '.github/workflows/release.yml'), text });
  }
  if (flags.gitlab) {
    const text = split ? split.gitlabSplitPipeline(info, options, version, targets) : gitlabJob(info, options, version);
    files.push({ path: resolve(cwd, '.gitlab-ci.yml'), text });
  }

  if (!flags.force) {
    for (const f of files) {
      if (await stat(f.path).catch(() => undefined)) {
        throw new RelsignError(`${relative(cwd, f.path)} already exists; relsign init never overwrites a file (use --force to replace it)`);
      }
    }
  }
  for (const f of files) {
    await mkdir(dirname(f.path), { recursive: true });
    await writeFileAtomic(f.path, f.text);
    out(`wrote ${relative(cwd, f.path)}`);
  }
  out(`next: npx relsign check${flags.output === 'relsign.config.yaml' ? '' : ` --config ${flags.output}`}, then npx relsign release --snapshot --clean`);
}
