import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadPoller } from '../src/head-poller';
import { LatestOnly } from '../src/latest';

const later = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test('a late reply is dropped and the earlier request aborted', async () => {
  const latest = new LatestOnly();
  const signals: AbortSignal[] = [];
  const slow = latest.run(async signal => {
    signals.push(signal);
    await later(30);
    return 'notebook A';
  });
  const fast = latest.run(async signal => {
    signals.push(signal);
    return 'notebook B';
  });
  assert.equal(await fast, 'notebook B');
  assert.equal(await slow, null); // A's reply came last, and is not drawn
  assert.equal(signals[0].aborted, true);
  assert.equal(signals[1].aborted, false);
});

test('an error of a superseded request is dropped, of the latest one raised', async () => {
  const latest = new LatestOnly();
  const old = latest.run(async () => {
    await later(10);
    throw new Error('old');
  });
  const current = latest.run(async () => {
    throw new Error('current');
  });
  await assert.rejects(current, /current/);
  assert.equal(await old, null);
  latest.cancel();
});

test('cancel drops the reply in flight', async () => {
  const latest = new LatestOnly();
  const pending = latest.run(async () => {
    await later(10);
    return 1;
  });
  latest.cancel();
  assert.equal(await pending, null);
});

test('one head request per tick, however many listen; changes only when it moves', async () => {
  let requests = 0;
  let head = 5;
  const poller = new HeadPoller(
    async () => {
      requests++;
      return head;
    },
    { fastMs: 5, slowMs: 1000 }
  );
  const seenBySidebar: number[] = [];
  const seenByStatus: number[] = [];
  poller.subscribe({ changed: seq => void seenBySidebar.push(seq) });
  poller.subscribe({ changed: seq => void seenByStatus.push(seq) });
  await Promise.all([poller.poke(), poller.poke()]); // coalesced into one request
  assert.equal(requests, 1);
  await poller.poke();
  assert.equal(requests, 2);
  head = 7;
  await poller.poke();
  poller.stop();
  assert.deepEqual(seenBySidebar, [5, 7]);
  assert.deepEqual(seenByStatus, [5, 7]);
});

test('the fast rhythm only while a view holds it; failures reach every listener', async t => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const flush = () => new Promise(resolve => setImmediate(resolve));
  const advance = async (ms: number) => {
    t.mock.timers.tick(ms);
    for (let i = 0; i < 5; i++) {
      await flush();
    }
  };
  let requests = 0;
  let broken = false;
  const poller = new HeadPoller(
    async () => {
      requests++;
      if (broken) {
        throw new Error('store down');
      }
      return 1;
    },
    { fastMs: 100, slowMs: 10_000 }
  );
  const failures: string[] = [];
  const changes: number[] = [];
  poller.subscribe({ changed: seq => void changes.push(seq), failed: e => failures.push(String(e)) });
  poller.subscribe({ failed: e => failures.push(String(e)) });
  poller.start();
  await advance(9_000);
  assert.equal(requests, 0); // slow rhythm: nothing before 10 s
  await advance(1_000);
  assert.equal(requests, 1);
  const sidebar = {};
  poller.setFast(sidebar, true); // asks at once, then every 100 ms
  await advance(0);
  assert.equal(requests, 2);
  await advance(100);
  await advance(100);
  assert.equal(requests, 4);
  broken = true;
  await advance(100);
  assert.deepEqual(failures, ['Error: store down', 'Error: store down']);
  broken = false;
  await advance(100);
  poller.setFast(sidebar, false);
  await advance(100); // the tick already scheduled at the fast rate
  const settled = requests;
  await advance(5_000);
  assert.equal(requests, settled, 'back to the slow rhythm');
  poller.stop();
  assert.deepEqual(changes, [1, 1]); // after a failure the head counts as changed again
});
