import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
async function project(config: string, extra: Record<string, string> = {}): Promise<TempRepo> {
  const r = await TempRepo.create({ 'relsign.config.yaml': config, 'README.md': '# demo\n', ...extra });
  repos.push(r);
  await r.commit('initial');
  return r;
}
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

describe('relsign --version / --help', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
  it.each([['--help'], ['release', '--help'], ['check', '--help']])('%s exits 0 and lists flags', async (...args) => {
    const r = await runCli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: relsign/);
  });
  it('release --help lists every documented flag', async () => {
    const r = await runCli(['release', '--help']);
    for (const flag of ['--config', '--clean', '--snapshot', '--skip', '--parallelism', '--timeout', '--draft', '--release-notes', '--fail-fast', '--json'])
      expect(r.stdout).toContain(flag);
  });
});

describe('usage errors exit 2 with one line', () => {
  it.each([
    [['release', '--skip', 'bogus'], /^relsign: --skip=bogus is not allowed; valid options are announce, archive, before, changelog, docker, publish, sign, validate$/],
    [['release', '--parallelism', '0'], /--parallelism must be a whole number/],
    [['release', '--bogus-flag'], /unknown option '--bogus-flag'/],
    [['relase'], /unknown command 'relase'/],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('--timeout with a bad duration', async () => {
    const p = await project('project_name: demo\n');
    const r = await runCli(['release', '--snapshot', '--timeout', 'soon'], { cwd: p.dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('relsign: --timeout: invalid duration "soon" (use e.g. 30s, 10m, 1h)');
  });
});

describe('relsign check', () => {
  it('accepts a valid config', async () => {
    const p = await project('project_name: demo\n');
    const r = await runCli(['check'], { cwd: p.dir });
    expect(r.stdout.trim()).toBe('config is valid');
    expect(r.code).toBe(0);
  });

  it.each([
    ['YAML syntax error', 'builds:\n  - id: x\n   cmd: [a\n', /^relsign: relsign\.config\.yaml:\d+:\d+: YAML syntax error: .+$/],
    ['unknown key', 'signs:\n  - artfacts: all\n', /^relsign: relsign\.config\.yaml:2:5: signs\[0\]\.artfacts: unknown key, did you mean artifacts\?$/],
    ['wrong type', 'builds:\n  - targets: 3\n', /^relsign: relsign\.config\.yaml:2:14: builds\[0\]\.targets: must be array, got integer$/],
    ['bad template', 'archives:\n  - name_template: "{{ .Versoin }}"\n', /^relsign: relsign\.config\.yaml:2:20: archives\[0\]\.name_template: .*Versoin.*$/],
    ['template syntax', 'archives:\n  - name_template: "{{ .Version "\n', /^relsign: relsign\.config\.yaml:2:20: archives\[0\]\.name_template: .+$/],
  ])('reports a %s in one line, exit 1', async (_, config, message) => {
    const p = await project(config);
    const r = await runCli(['check'], { cwd: p.dir });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('relsign release --snapshot', () => {
  it('runs the pipeline on a real repo and writes metadata.json, artifacts.json, config.yaml', async () => {
    const p = await project(
      [
        'project_name: demo',
        'env:',
        '  - GREETING=hello-{{ .ProjectName }}',
        '  - API_TOKEN=s3cr3t-value',
        'before:',
        '  hooks:',
        '    - cmd: "sh -c \'echo $GREETING > hook-output.txt\'"',
        '',
      ].join('\n'),
    );
    await p.tag('v1.2.3');
    await writeFile(join(p.dir, 'untracked.txt'), 'dirty tree is fine in a snapshot\n');
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: p.dir });
    expect(r.stderr).not.toContain('s3cr3t-value');
    expect(r.code, r.stderr).toBe(0);
    const short = await p.git('rev-parse', '--short', 'HEAD');
    const meta = JSON.parse(await readFile(join(p.dir, 'dist/metadata.json'), 'utf8'));
    expect(meta).toMatchObject({ project_name: 'demo', tag: 'v1.2.3', version: `1.2.3-SNAPSHOT-${short}` });
    expect(meta.commit).toBe(await p.git('rev-parse', 'HEAD'));
    const artifacts = JSON.parse(await readFile(join(p.dir, 'dist/artifacts.json'), 'utf8'));
    expect(artifacts).toContainEqual({ name: 'metadata.json', path: 'dist/metadata.json', type: 'metadata' });
    const effective = await readFile(join(p.dir, 'dist/config.yaml'), 'utf8');
    expect(effective).toContain('API_TOKEN=[REDACTED]');
    expect(effective).not.toContain('s3cr3t-value');
    expect((await readFile(join(p.dir, 'hook-output.txt'), 'utf8')).trim()).toBe('hello-demo');
  });

  it('refuses a non-empty dist without --clean, and --clean empties it', async () => {
    const p = await project('project_name: demo\n');
    await mkdir(join(p.dir, 'dist'));
    await writeFile(join(p.dir, 'dist/stale.txt'), 'old');
    const r = await runCli(['release', '--snapshot'], { cwd: p.dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toBe('relsign: dist/ is not empty; remove it or run with --clean');
    const ok = await runCli(['release', '--snapshot', '--clean'], { cwd: p.dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readdir(join(p.dir, 'dist'))).sort()).toEqual(['CHANGELOG.md', 'artifacts.json', 'config.yaml', 'metadata.json']);
  });

  it('a real release refuses an untagged HEAD with a clear error', async () => {
    const p = await project('project_name: demo\n');
    const r = await runCli(['release', '--skip', 'publish'], { cwd: p.dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toBe(
      'relsign: no git tag points at HEAD; tag the commit (git tag v1.2.3) or use --snapshot',
    );
  });

  it('a failing before hook stops the run, naming the hook', async () => {
    const p = await project('before:\n  hooks:\n    - sh -c "echo boom >&2; exit 3"\n');
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: p.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('boom');
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^relsign: before\.hooks\[0\]: hook failed \(exit code 3\): sh -c/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('--skip before skips hooks', async () => {
    const p = await project('before:\n  hooks:\n    - "false"\n');
    const r = await runCli(['release', '--snapshot', '--clean', '--skip', 'before'], { cwd: p.dir });
    expect(r.code, r.stderr).toBe(0);
  });

  it('--json logs one JSON object per line', async () => {
    const p = await project('project_name: demo\n');
    const r = await runCli(['release', '--snapshot', '--clean', '--json'], { cwd: p.dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('• reading git state');
  });

  it('Ctrl-C stops cleanly: the hook is killed, exit 130, one line', async () => {
    const p = await project('before:\n  hooks:\n    - sleep 31.7\n');
    const { execa } = await import('execa');
    const { CLI } = await import('../helpers/cli.js');
    const child = execa(process.execPath, [CLI, 'release', '--snapshot', '--clean'], { cwd: p.dir, reject: false });
    // Interrupt once the hook is running, as a terminal's Ctrl-C would.
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('running sleep 31.7')) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, `signal=${r.signal} stderr=${r.stderr}`).toBe(130);
    expect(String(r.stderr).trim().split('\n').pop()).toBe('relsign: interrupted (Ctrl-C); the release was not completed');
    const left = await execa('pgrep', ['-f', 'sleep 31.7'], { reject: false });
    expect(left.exitCode).toBe(1);
  });

  it('--timeout aborts the run', async () => {
    const p = await project('before:\n  hooks:\n    - sleep 5\n');
    const r = await runCli(['release', '--snapshot', '--clean', '--timeout', '300ms'], { cwd: p.dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toBe('relsign: timed out after 300ms (--timeout)');
  });
});
