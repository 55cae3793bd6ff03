import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

/** Interop vectors (data made by cosign / sigstore): `../shared/vectors` beside the checkout. */
export const VECTORS = resolve(REPO_ROOT, '../shared/vectors');
export const vec = (...parts: string[]): string => join(VECTORS, ...parts);

/** Temp folders removed by `cleanup()` (call it in afterAll/afterEach). */
export class Scratch {
  private dirs: string[] = [];
  async dir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'relsign-sigstore-'));
    this.dirs.push(d);
    return d;
  }
  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}
