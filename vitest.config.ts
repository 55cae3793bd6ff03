import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Many tests wait on child processes and loopback servers (git, gpg, a registry,
    // Sigstore services) rather than compute, so one worker more than the CPUs keeps
    // the CPUs busy; vitest's default (CPUs - 1) runs a 2-CPU CI machine one file at a time.
    maxWorkers: Math.min(availableParallelism() + 1, 8),
    // Tests never reach the public-good TUF repository: a mirror on a closed loopback port.
    env: { RELSIGN_TUF_MIRROR: 'http://127.0.0.1:9', RELSIGN_TUF_CACHE: join(tmpdir(), 'relsign-test-tuf-cache') },
  },
});
