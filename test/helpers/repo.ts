import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/** A real git repository in a temp folder, with a fixed identity and dates so results are reproducible. */
export class TempRepo {
  private constructor(readonly dir: string) {}

  static async create(files: Record<string, string> = {}): Promise<TempRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'relsign-test-'));
    const repo = new TempRepo(dir);
    await repo.git('init', '-q', '-b', 'main');
    await repo.write(files);
    return repo;
  }

  /** A plain temp folder that is not a git repository. */
  static async plain(files: Record<string, string> = {}): Promise<TempRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'relsign-test-'));
    const repo = new TempRepo(dir);
    await repo.write(files);
    return repo;
  }

  async write(files: Record<string, string>): Promise<void> {
    for (const [name, content] of Object.entries(files)) {
      const p = join(this.dir, name);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, content);
    }
  }

  async git(...args: string[]): Promise<string> {
    const r = await execa('git', args, {
      cwd: this.dir,
      env: {
        GIT_AUTHOR_NAME: 'Test',
        GIT_AUTHOR_EMAIL: 'test@example.com',
        GIT_COMMITTER_NAME: 'Test',
        GIT_COMMITTER_EMAIL: 'test@example.com',
        GIT_AUTHOR_DATE: '2024-01-02T03:04:05Z',
        GIT_COMMITTER_DATE: '2024-01-02T03:04:05Z',
      },
    });
    return r.stdout.trim();
  }

  async commit(message = 'commit', files: Record<string, string> = {}): Promise<string> {
    await this.write(files);
    await this.git('add', '-A');
    await this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  async tag(name: string): Promise<void> {
    await this.git('tag', name);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
