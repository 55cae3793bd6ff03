import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signStage } from '../../src/stages/sign/index.js';
import { testContext } from '../helpers/context.js';

let work: string | undefined;
afterEach(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  work = undefined;
});

async function run(signs: unknown[]): Promise<{ text: string; signed: number }> {
  work = await mkdtemp(join(tmpdir(), 'relsign-sign-default-'));
  const { ctx, logs } = await testContext(work, { signs }, { env: { COSIGN_PASSWORD: '' } });
  await writeFile(join(ctx.distDir, 'checksums.txt'), 'sums\n');
  ctx.artifacts.add({ type: 'checksum', name: 'checksums.txt', path: join(ctx.distDir, 'checksums.txt') });
  await signStage.run(ctx);
  return { text: logs.text, signed: ctx.artifacts.filter({ types: ['signature'] }).length };
}

describe('a signs entry without artifacts:', () => {
  it("warns that GoReleaser's default is none, and signs nothing", async () => {
    const r = await run([{ cmd: 'gpg', args: ['--version'] }]);
    expect(r.signed).toBe(0);
    expect(r.text).toMatch(/signs\[0\]: no artifacts: set, so nothing is signed \(GoReleaser's default is none\)/);
  });

  it('an explicit artifacts: none says nothing', async () => {
    const r = await run([{ cmd: 'gpg', args: ['--version'], artifacts: 'none' }]);
    expect(r.signed).toBe(0);
    expect(r.text).not.toMatch(/GoReleaser's default/);
  });
});
