import assert from 'node:assert/strict';
import { answering, BACKGROUND_SLICE_MS, inSlice, runInSlices, SERVING_SLICE_MS, sliceMs } from '../../collectors/lib/serving-first.js';

describe('background work gives way to requests (collectors/lib/serving-first.ts)', () => {
  it('takes short slices while a request is answered, and long ones again after', () => {
    assert.equal(sliceMs(), BACKGROUND_SLICE_MS);
    const one = answering();
    const two = answering();
    assert.equal(sliceMs(), SERVING_SLICE_MS);
    one();
    one(); // a second call must not end the other request
    assert.equal(sliceMs(), SERVING_SLICE_MS);
    two();
    assert.equal(sliceMs(), BACKGROUND_SLICE_MS);
  });

  it('runs a stepped computation to its value, giving the event loop turns between slices', async () => {
    function* steps(): Generator<void, number> {
      let sum = 0;
      for (let i = 0; i < 200; i++) {
        // About 0.1 ms a step: a slice holds a few dozen.
        const until = performance.now() + 0.1;
        while (performance.now() < until);
        sum += i;
        yield;
      }
      return sum;
    }
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 0);
    const done = answering();
    try {
      assert.equal(await runInSlices(steps()), 19900);
    } finally {
      done();
      clearInterval(ticker);
    }
    // 20 ms of steps in 1 ms slices: the timer ran between them, many times.
    assert.ok(turns >= 5, `timer turns between slices: ${turns}`);
  });

  it('runs thousands of short pieces of work given at once a slice a turn, each to its value or its error', async () => {
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 0);
    const spin = () => {
      const until = performance.now() + 0.05;
      while (performance.now() < until);
    };
    try {
      const all = Array.from({ length: 2000 }, (_, i) => inSlice(() => (spin(), i)));
      const failed = inSlice(() => {
        throw new Error('no');
      });
      assert.deepEqual(await Promise.all(all), Array.from({ length: 2000 }, (_, i) => i));
      await assert.rejects(failed, /no/);
    } finally {
      clearInterval(ticker);
    }
    // 100 ms of work in 5 ms slices: the timer ran between them.
    assert.ok(turns >= 5, `timer turns between slices: ${turns}`);
  });
});
