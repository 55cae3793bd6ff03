import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/util/concurrency.js';
import { RelsignError } from '../../src/util/errors.js';

describe('mapLimit', () => {
  it('keeps input order with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('once the signal aborts, starts no new item, lets in-flight ones settle, and throws the signal\'s reason', async () => {
    const ac = new AbortController();
    const reason = new RelsignError('interrupted (Ctrl-C)', { exitCode: 130 });
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapLimit(
      Array.from({ length: 20 }, (_, i) => i),
      2,
      async (i) => {
        started.push(i);
        if (i === 1) ac.abort(reason);
        await new Promise((r) => setTimeout(r, 5));
        finished.push(i);
        return i;
      },
      { signal: ac.signal },
    );
    await expect(run).rejects.toBe(reason);
    expect(started).toEqual([0, 1]);
    expect(finished.sort()).toEqual([0, 1]);
  });

  it('an already aborted signal runs nothing', async () => {
    const ac = new AbortController();
    ac.abort(new RelsignError('timed out'));
    let calls = 0;
    await expect(mapLimit([1, 2, 3], 4, async () => ++calls, { signal: ac.signal })).rejects.toThrow('timed out');
    expect(calls).toBe(0);
  });
});
