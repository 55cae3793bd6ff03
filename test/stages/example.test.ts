import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterEach, expect, it } from 'vitest';
import { validateAgainstSchema } from '../../src/config/validate.js';
import { archiveStage } from '../../src/stages/archive/index.js';
import { buildStage } from '../../src/stages/build.js';
import { checksumStage } from '../../src/stages/checksum.js';
import { sourceStage } from '../../src/stages/source.js';
import { TempRepo } from '../helpers/repo.js';
import { contextFor, FIXTURE, runStages } from './helpers.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

it('release.config.example.yaml validates and its build/archive/checksum sections release fixtures/example', async () => {
  const config = parse(await readFile(join(FIXTURE, '../../release.config.example.yaml'), 'utf8')) as Record<string, unknown>;
  expect(await validateAgainstSchema(config)).toEqual([]);
  const { builds, archives, source, checksum } = config;
  const sections = { builds, archives, source, checksum };
  repo = await TempRepo.create();
  await cp(FIXTURE, join(repo.dir, 'fixtures/example'), { recursive: true });
  await repo.commit('initial');
  const { ctx } = await contextFor(repo, sections);
  await runStages(ctx, [buildStage, archiveStage, sourceStage, checksumStage]);
  expect(ctx.artifacts.filter({ types: ['archive', 'source', 'checksum'] }).map((a) => a.name)).toEqual([
    'hello_1.2.3_darwin_arm64.tar.gz',
    'hello_1.2.3_linux_amd64.tar.gz',
    'hello_1.2.3_linux_arm64.tar.gz',
    'hello_1.2.3_windows_amd64.zip',
    'hello-1.2.3.tar.gz',
    'hello_1.2.3_checksums.txt',
  ]);
  const dist = ctx.distDir;
  expect((await execa('tar', ['-tzf', 'hello_1.2.3_linux_amd64.tar.gz'], { cwd: dist })).stdout.split('\n')).toEqual([
    'hello_1.2.3_linux_amd64/LICENSE',
    'hello_1.2.3_linux_amd64/README.md',
    'hello_1.2.3_linux_amd64/hello',
  ]);
  expect((await execa('unzip', ['-Z1', 'hello_1.2.3_windows_amd64.zip'], { cwd: dist })).stdout).toContain('hello_1.2.3_windows_amd64/hello.exe');
  await execa('sha256sum', ['-c', '--strict', 'hello_1.2.3_checksums.txt'], { cwd: dist });
});
