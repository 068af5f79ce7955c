import assert from 'node:assert/strict';
import { backoffDelay, ScanLoop, validateSchedule, type Ticker } from '../../agent/serve/scheduler.js';
import { setLogLevel } from '../../agent/serve/log.js';

describe('scheduler', () => {
  before(() => setLogLevel('error'));
  after(() => setLogLevel('info'));

  it('backs off exponentially after failures, capped', () => {
    const p = { baseMs: 30_000, capMs: 1_800_000 };
    assert.deepEqual([0, 1, 2, 3, 4, 7, 100].map((n) => backoffDelay(n, p)), [0, 30_000, 60_000, 120_000, 240_000, 1_800_000, 1_800_000]);
  });

  it('accepts 5- and 6-field cron expressions and refuses the rest', () => {
    validateSchedule('*/5 * * * *');
    validateSchedule('*/10 * * * * *');
    for (const bad of ['', 'every minute', '* * * *', '61 * * * *', '* * * * * * *']) assert.throws(() => validateSchedule(bad), /scan\.schedule/);
  });

  it('never runs two scans at once: a trigger during a scan joins it', async () => {
    let runs = 0;
    let release!: () => void;
    const loop = new ScanLoop('*/5 * * * *', () => {
      runs += 1;
      return new Promise<void>((r) => (release = r));
    });
    const first = loop.trigger('test');
    const second = loop.trigger('test');
    assert.equal(loop.busy, true);
    assert.equal(runs, 1);
    release();
    await Promise.all([first, second]);
    assert.equal(loop.busy, false);
    const third = loop.trigger('test');
    assert.equal(runs, 2, 'once it ended, a new one may start');
    release();
    await third;
  });

  it('after a failure, waits out the back-off before the next scan', async () => {
    let now = 1_000_000;
    let runs = 0;
    let fail = true;
    const loop = new ScanLoop(
      '*/5 * * * *',
      async () => {
        runs += 1;
        if (fail) throw new Error('root unreadable');
      },
      { baseMs: 30_000, capMs: 600_000 },
      () => now,
    );
    await loop.trigger('test');
    assert.equal(runs, 1);
    now += 29_000;
    await loop.trigger('test');
    assert.equal(runs, 1, 'still backing off');
    now += 2_000;
    await loop.trigger('test');
    assert.equal(runs, 2, 'back-off over; failed again');
    now += 59_000;
    await loop.trigger('test');
    assert.equal(runs, 2, 'the second failure doubled the wait');
    fail = false;
    now += 2_000;
    await loop.trigger('test');
    assert.equal(runs, 3);
    await loop.trigger('test');
    assert.equal(runs, 4, 'a success clears the back-off');
  });

  it('a scan slower than the schedule never overlaps itself: the ticks during it are skipped', async () => {
    // The schedule's ticks are the test's, and so is the clock: nothing waits on real time.
    let tick!: () => void;
    let stopped = false;
    const ticker: Ticker = (_schedule, t) => {
      tick = t;
      return { stop: () => (stopped = true) };
    };
    let now = 0;
    let running = 0;
    let most = 0;
    let runs = 0;
    const releases: (() => void)[] = [];
    const loop = new ScanLoop(
      '* * * * * *',
      () => {
        runs += 1;
        running += 1;
        most = Math.max(most, running);
        return new Promise<void>((r) => releases.push(() => ((running -= 1), r())));
      },
      { baseMs: 30_000, capMs: 600_000 },
      () => now,
      ticker,
    );
    loop.start();
    assert.equal(runs, 1, 'the scan at start');
    // The scan takes 10 ticks of a 1-second schedule.
    for (let i = 0; i < 10; i++) {
      now += 1000;
      tick();
    }
    assert.equal(runs, 1, 'no tick started another');
    releases.shift()!();
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    assert.equal(loop.busy, false);
    now += 1000;
    tick();
    assert.equal(runs, 2, 'the next tick after it ended starts one');
    tick();
    tick();
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual({ runs, most }, { runs: 2, most: 1 });
    await loop.stop();
    assert.equal(stopped, true);
  });
});
