import { readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildStage, parseTarget } from '../../src/stages/build.js';
import { RelsignError } from '../../src/util/errors.js';
import type { TempRepo } from '../helpers/repo.js';
import { contextFor, EXAMPLE_BUILD, exampleRepo, runStages, sh } from './helpers.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe('parseTarget', () => {
  it('splits os_arch and arm versions', () => {
    expect(parseTarget('linux_arm_7', 'x')).toMatchObject({ os: 'linux', arch: 'arm', arm: '7' });
    expect(parseTarget('linux_amd64_v3', 'x')).toMatchObject({ os: 'linux', arch: 'amd64', arm: '', variant: 'v3' });
    expect(() => parseTarget('linux', 'builds[0].targets[0]')).toThrow('builds[0].targets[0]: invalid target');
  });
});

describe('build stage', () => {
  it('runs the command per target with RELSIGN_* and GOOS/GOARCH, registering binaries', async () => {
    repo = await exampleRepo();
    await repo.write({
      'env.sh': '#!/bin/sh\nprintf "%s %s %s %s %s %s\\n" "$RELSIGN_OS" "$RELSIGN_ARCH" "$RELSIGN_ARM" "$GOOS" "$GOARCH" "$GOARM" > "$RELSIGN_OUTPUT"\n',
    });
    await chmod(join(repo.dir, 'env.sh'), 0o755);
    const { ctx } = await contextFor(repo, {
      builds: [
        EXAMPLE_BUILD,
        { id: 'envdump', cmd: './env.sh', targets: ['linux_arm_7', 'windows_amd64'], binary: 'dump-{{ .Os }}' },
      ],
    });
    await runStages(ctx, [buildStage]);
    const bins = ctx.artifacts.filter({ types: ['binary'] });
    expect(bins.map((b) => `${b.id}:${b.target}:${b.name}:${b.path}`)).toEqual([
      'hello:linux_amd64:hello:dist/hello_linux_amd64/hello',
      'hello:linux_arm64:hello:dist/hello_linux_arm64/hello',
      'hello:darwin_arm64:hello:dist/hello_darwin_arm64/hello',
      'hello:windows_amd64:hello.exe:dist/hello_windows_amd64/hello.exe',
      'envdump:linux_arm_7:dump-linux:dist/envdump_linux_arm_7/dump-linux',
      'envdump:windows_amd64:dump-windows.exe:dist/envdump_windows_amd64/dump-windows.exe',
    ]);
    expect(bins[4]).toMatchObject({ os: 'linux', arch: 'arm', arm: '7', extra: { binary: 'dump-linux' } });
    expect(await readFile(join(repo.dir, 'dist/envdump_linux_arm_7/dump-linux'), 'utf8')).toBe('linux arm 7 linux arm 7\n');
    // The example binary runs and carries the templated env.
    expect(await sh(join(repo.dir, 'dist/hello_linux_amd64/hello'), ['--version'], repo.dir)).toBe('hello 1.2.3 (linux_amd64)');
    expect((await stat(join(repo.dir, 'dist/hello_linux_amd64/hello'))).mode & 0o111).toBeTruthy();
  });

  it('templates output, cmd args and dir; runs hooks per target', async () => {
    repo = await exampleRepo();
    const { ctx } = await contextFor(repo, {
      builds: [
        {
          id: 'x',
          cmd: ['sh', '-c', 'echo {{ .Target }}-{{ .Version }} > "$RELSIGN_OUTPUT"; echo "$RELSIGN_TARGET" >> hooks.log'],
          dir: '{{ "scripts" }}',
          targets: ['linux_amd64', 'darwin_arm64'],
          binary: 'tool',
          output: 'bin/{{ .Os }}-{{ .Arch }}/{{ .Binary }}',
          hooks: { pre: [{ cmd: ['sh', '-c', 'echo pre-{{ .Target }} >> hooks.log'] }], post: [{ cmd: 'sh -c "echo post-$RELSIGN_TARGET >> hooks.log"', shell: false }] },
        },
      ],
    }, { parallelism: 1 });
    await runStages(ctx, [buildStage]);
    expect(await readFile(join(repo.dir, 'dist/bin/linux-amd64/tool'), 'utf8')).toBe('linux_amd64-1.2.3\n');
    expect(await readFile(join(repo.dir, 'scripts/hooks.log'), 'utf8')).toBe('linux_amd64\ndarwin_arm64\n');
    // Hooks run in the project dir.
    expect((await readFile(join(repo.dir, 'hooks.log'), 'utf8')).trim().split('\n')).toEqual([
      'pre-linux_amd64',
      'post-linux_amd64',
      'pre-darwin_arm64',
      'post-darwin_arm64',
    ]);
  });

  it('fails with a one-line error naming build, target and exit code, and logs the stderr tail', async () => {
    repo = await exampleRepo();
    const { ctx, log } = await contextFor(repo, {
      env: [],
      builds: [{ ...EXAMPLE_BUILD, env: ['HELLO_FAIL=linux_arm64'] }],
    });
    const err = await runStages(ctx, [buildStage]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelsignError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^build hello failed for linux_arm64 \(exit code 3\): node scripts\/build\.mjs$/);
    expect(log()).toContain('build.mjs: refusing to build linux_arm64 (HELLO_FAIL)');
  });

  it('shows at most the last 20 lines of stderr', async () => {
    repo = await exampleRepo();
    const { ctx, log } = await contextFor(repo, {
      builds: [{ id: 'noisy', cmd: ['sh', '-c', 'i=1; while [ $i -le 30 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 7'], targets: ['linux_amd64'] }],
    });
    await expect(runStages(ctx, [buildStage])).rejects.toThrow('build noisy failed for linux_amd64 (exit code 7)');
    expect(log()).toContain('line 30');
    expect(log()).toContain('line 11');
    expect(log()).not.toMatch(/line 10\b/);
  });

  it('errors when the command writes no output, or is not found', async () => {
    repo = await exampleRepo();
    let { ctx } = await contextFor(repo, { builds: [{ id: 'lazy', cmd: 'true', targets: ['linux_amd64'] }] });
    await expect(runStages(ctx, [buildStage])).rejects.toThrow(/builds\[0\] \(id lazy, linux_amd64\): the build command succeeded but did not write dist\/lazy_linux_amd64\/hello/);
    ({ ctx } = await contextFor(repo, { dist: 'dist2', builds: [{ id: 'nope', cmd: 'no-such-tool-xyz', targets: ['linux_amd64'] }] }));
    await expect(runStages(ctx, [buildStage])).rejects.toThrow('command not found: no-such-tool-xyz');
  });

  it('uses prebuilt binaries, which must exist', async () => {
    repo = await exampleRepo();
    await repo.write({ 'prebuilt/linux_amd64/hello': 'A', 'prebuilt/windows_amd64/hello.exe': 'W' });
    const { ctx } = await contextFor(repo, {
      builds: [{ id: 'pre', prebuilt: 'prebuilt/{{ .Target }}/{{ .Binary }}{{ if eq .Os "windows" }}.exe{{ end }}', targets: ['linux_amd64', 'windows_amd64'] }],
    });
    await runStages(ctx, [buildStage]);
    expect(ctx.artifacts.filter({ types: ['binary'] }).map((b) => b.path)).toEqual(['dist/pre_linux_amd64/hello', 'dist/pre_windows_amd64/hello.exe']);
    expect(await readFile(join(repo.dir, 'dist/pre_windows_amd64/hello.exe'), 'utf8')).toBe('W');
    const { ctx: ctx2 } = await contextFor(repo, { dist: 'dist2', builds: [{ id: 'pre', prebuilt: 'prebuilt/{{ .Target }}/hello', targets: ['darwin_arm64'] }] });
    await expect(runStages(ctx2, [buildStage])).rejects.toThrow('builds[0].prebuilt: prebuilt/darwin_arm64/hello does not exist or is not a file (darwin_arm64)');
  });

  it('skips builds by template, rejects outputs outside dist and colliding outputs', async () => {
    repo = await exampleRepo();
    let { ctx } = await contextFor(repo, { builds: [{ ...EXAMPLE_BUILD, skip: '{{ eq .Os "windows" }}' }] });
    await runStages(ctx, [buildStage]);
    expect(ctx.artifacts.filter({ types: ['binary'] }).map((b) => b.target)).toEqual(['linux_amd64', 'linux_arm64', 'darwin_arm64']);
    ({ ctx } = await contextFor(repo, { dist: 'd2', builds: [{ ...EXAMPLE_BUILD, output: '../escape/{{ .Binary }}' }] }));
    await expect(runStages(ctx, [buildStage])).rejects.toThrow(/builds\[0\]\.output: .* is outside the dist folder/);
    ({ ctx } = await contextFor(repo, { dist: 'd3', builds: [{ ...EXAMPLE_BUILD, output: 'same/{{ .Binary }}', targets: ['linux_amd64', 'linux_arm64'] }] }));
    await expect(runStages(ctx, [buildStage])).rejects.toThrow(/output d3\/same\/hello is also the output of builds\[0\] \(id hello, linux_amd64\)/);
  });

  it('says so when the command is not executable', async () => {
    repo = await exampleRepo();
    await writeFile(join(repo.dir, 'notexec.sh'), '#!/bin/sh\nexit 0\n');
    const { ctx } = await contextFor(repo, { builds: [{ id: 'ne', cmd: './notexec.sh', targets: ['linux_amd64'] }] });
    await expect(runStages(ctx, [buildStage])).rejects.toThrow('build ne failed for linux_amd64 (EACCES: permission denied): ./notexec.sh');
  });
});
