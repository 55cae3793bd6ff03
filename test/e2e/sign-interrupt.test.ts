import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * Ctrl-C during the signing stage, through the real CLI (bin/relsign.js as a
 * child): relsign stops promptly with exit 130, stops the external signer's
 * whole process group, and leaves no partial signature under its final name
 * and no temp file in dist.
 */
let repo: TempRepo | undefined;
let child: ResultPromise | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await child?.catch(() => undefined);
  child = undefined;
  await repo?.remove();
  repo = undefined;
});

const TARGETS = Array.from({ length: 12 }, (_, i) => `linux_a${i}`);

function config(signs: string[]): string {
  return [
    'version: 2',
    'project_name: demo',
    'builds:',
    '  - id: demo',
    '    prebuilt: "payload/{{ .Target }}.bin"',
    `    targets: [${TARGETS.join(', ')}]`,
    '    binary: demo',
    'archives:',
    '  - id: demo',
    '    formats: [binary]',
    'checksum:',
    '  disable: true',
    'changelog:',
    '  disable: true',
    'signs:',
    ...signs,
    '',
  ].join('\n');
}

/** Sparse payloads: large to hash, cheap to create. */
async function payloads(dir: string, size: number): Promise<void> {
  for (const t of TARGETS) {
    const fh = await open(join(dir, 'payload', `${t}.bin`), 'w');
    await fh.truncate(size);
    await fh.write(Buffer.from(`payload ${t}\n`), 0, undefined, 0);
    await fh.close();
  }
}

/** Every file under dist (relative paths). */
async function distFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, 'dist'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(join(dir, 'dist').length + 1));
}

function start(dir: string): ResultPromise {
  child = execa(process.execPath, [CLI, 'release', '--snapshot', '--clean', '--parallelism', '1'], {
    cwd: dir,
    reject: false,
    stdin: 'ignore',
    env: { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined, RELSIGN_CURRENT_TAG: undefined },
  });
  return child;
}

/** Resolves when `test` holds on the child's stderr so far; fails if the child exits first. */
async function untilStderr(c: ResultPromise, test: (text: string) => boolean): Promise<void> {
  let text = '';
  await new Promise<void>((resolve, reject) => {
    c.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      if (test(text)) resolve();
    });
    c.then((r) => reject(new Error(`relsign exited (${r.exitCode}) too early: ${String(r.stderr)}`)), reject);
  });
}

describe('Ctrl-C while signing', () => {
  it('builtin signer: stops scheduling artifacts, exits 130 promptly, writes no partial signature or temp file', async () => {
    repo = await TempRepo.create({
      '.gitignore': 'dist/\npayload/\n',
      'relsign.config.yaml': config(['  - signer: builtin', '    key: env://COSIGN_PRIVATE_KEY', '    artifacts: binary', '    signature: "$<artifact>.sig"']),
      'payload/.keep': '',
    });
    await payloads(repo.dir, 96 * 1024 * 1024);
    await repo.commit('feat: payloads');

    const c = start(repo.dir);
    // Interrupt once the first of twelve signatures is written.
    await untilStderr(c, (t) => /signed demo_/.test(t));
    const sentAt = Date.now();
    c.kill('SIGINT');
    const r = await c;
    child = undefined;
    const stderr = String(r.stderr);
    expect(r.exitCode, stderr).toBe(130);
    // Loose bound: the remaining eleven 96 MB files are never hashed to the end.
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(stderr).toMatch(/relsign: interrupted \(Ctrl-C\)/);
    expect(stderr).not.toMatch(/^\s+at /m);

    const files = await distFiles(repo.dir);
    expect(files.filter((f) => f.includes('.relsign-tmp-'))).toEqual([]);
    const sigs = files.filter((f) => f.endsWith('.sig'));
    expect(sigs.length).toBeGreaterThanOrEqual(1);
    expect(sigs.length).toBeLessThan(TARGETS.length);
    // Whatever was written is whole: each signature verifies against the ephemeral key.
    for (const sig of sigs) {
      const v = await runCli(
        ['verify-blob', '--key', 'dist/relsign-ephemeral.pub', '--insecure-ignore-tlog', '--signature', join('dist', sig), join('dist', sig.replace(/\.sig$/, ''))],
        { cwd: repo.dir },
      );
      expect(v.code, `${sig}: ${v.stderr}`).toBe(0);
    }
  });

  it('cmd signer: kills the signer\'s process group, removes its partial .sig, exits 130 promptly', async () => {
    // A slow signer: writes a few bytes of the signature, starts a background
    // child that would finish it, and waits.
    const script = [
      'printf 123456 > "$1"',
      '(sleep 30; printf rest-of-signature >> "$1") &',
      'echo $! > "$2"',
      'wait',
    ].join('\n');
    repo = await TempRepo.create({
      '.gitignore': 'dist/\npayload/\npids/\n',
      'slow-signer.sh': `${script}\n`,
      'relsign.config.yaml': config([
        '  - cmd: sh',
        '    artifacts: binary',
        '    signature: "${artifact}.sig"',
        '    args: ["slow-signer.sh", "${signature}", "pids/${artifactName}.pid"]',
      ]),
      'payload/.keep': '',
      'pids/.keep': '',
    });
    await payloads(repo.dir, 4096);
    await repo.commit('feat: payloads');

    const c = start(repo.dir);
    // Wait until a partial signature is on disk.
    await untilStderr(c, (t) => /signing artifacts/.test(t));
    let partial: string | undefined;
    await expect
      .poll(async () => {
        for (const f of await distFiles(repo!.dir)) {
          if (f.endsWith('.sig') && (await stat(join(repo!.dir, 'dist', f))).size === 6) partial = f;
        }
        return partial;
      }, { timeout: 10_000 })
      .toBeDefined();
    await expect.poll(async () => (await readdir(join(repo!.dir, 'pids'))).filter((f) => f.endsWith('.pid')).length).toBe(1);
    const bgPid = Number((await readFile(join(repo.dir, 'pids', (await readdir(join(repo.dir, 'pids'))).find((f) => f.endsWith('.pid'))!), 'utf8')).trim());
    expect(bgPid).toBeGreaterThan(1);

    const sentAt = Date.now();
    c.kill('SIGINT');
    const r = await c;
    child = undefined;
    const stderr = String(r.stderr);
    expect(r.exitCode, stderr).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(10_000); // loose: the signer would run 30 s
    expect(stderr).toMatch(/relsign: interrupted \(Ctrl-C\)/);

    const files = await distFiles(repo.dir);
    expect(files.filter((f) => f.endsWith('.sig'))).toEqual([]);
    expect(files.filter((f) => f.includes('.relsign-tmp-'))).toEqual([]);
    // The signer's background child went with its process group: it can never finish the file.
    await expect.poll(() => alive(bgPid), { timeout: 5000 }).toBe(false);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
