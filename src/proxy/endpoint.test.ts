// Specification of an endpoint's own state: availability, slow-start weight, in-flight tracking.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Endpoint, type Cuttable } from './endpoint.js';

const created: Endpoint[] = [];

function endpoint(id = 'web/1', weight = 1, address = '192.0.2.1:80'): Endpoint {
  const e = new Endpoint(id, address, weight, { connect: 1000, keepAlive: 4000 });
  created.push(e);
  return e;
}

const exchange = (): Cuttable => ({ cut() {}, lose: () => false });

after(async () => {
  await Promise.all(created.map((e) => e.pool.destroy()));
});

describe('Endpoint availability', () => {
  it('is not available until it has passed a health check', () => {
    const e = endpoint();
    assert.equal(e.healthy, false);
    assert.equal(e.isAvailable(1000), false);
    e.markHealthy(1000);
    assert.equal(e.isAvailable(1000), true);
  });

  it('is not available once marked unhealthy', () => {
    const e = endpoint();
    e.markHealthy(0);
    e.markUnhealthy();
    assert.equal(e.isAvailable(1000), false);
  });

  it('is not available while draining, even when healthy', () => {
    const e = endpoint();
    e.markHealthy(0);
    e.draining = true;
    assert.equal(e.isAvailable(1000), false);
  });

  it('is not available while ejected and is again from the moment the ejection ends', () => {
    const e = endpoint();
    e.markHealthy(0);
    e.ejectedUntil = 5000;
    assert.equal(e.isAvailable(4999), false);
    assert.equal(e.isAvailable(5000), true);
  });

  it('keeps the time it first became healthy when a later check passes again', () => {
    const e = endpoint();
    e.markHealthy(100);
    e.markHealthy(900);
    assert.equal(e.healthySince, 100);
  });

  it('restarts its healthy-since clock after it was unhealthy', () => {
    const e = endpoint();
    e.markHealthy(100);
    e.markUnhealthy();
    e.markHealthy(900);
    assert.equal(e.healthySince, 900);
  });
});

describe('Endpoint slow start (effectiveWeight)', () => {
  it('uses the full weight when slow start is off', () => {
    const e = endpoint('web/1', 4);
    e.markHealthy(1000);
    assert.equal(e.effectiveWeight(1000), 4);
  });

  it('starts at a 10% floor of its weight', () => {
    const e = endpoint('web/1', 4);
    e.slowStartMs = 10_000;
    e.markHealthy(1000);
    assert.equal(e.effectiveWeight(1000), 0.4);
    assert.equal(e.effectiveWeight(1500), 0.4, 'still at the floor 5% into the ramp');
  });

  it('ramps linearly to the full weight over slowStartMs', () => {
    const e = endpoint('web/1', 4);
    e.slowStartMs = 10_000;
    e.markHealthy(1000);
    assert.equal(e.effectiveWeight(1000 + 2_500), 1);
    assert.equal(e.effectiveWeight(1000 + 5_000), 2);
    assert.equal(e.effectiveWeight(1000 + 7_500), 3);
    assert.equal(e.effectiveWeight(1000 + 10_000), 4);
    assert.equal(e.effectiveWeight(1000 + 60_000), 4);
  });

  it('never decreases as time passes during the ramp', () => {
    const e = endpoint('web/1', 3);
    e.slowStartMs = 10_000;
    e.markHealthy(0);
    let previous = 0;
    for (let t = 0; t <= 12_000; t += 250) {
      const w = e.effectiveWeight(t);
      assert.ok(w >= previous && w <= 3, `weight ${w} at ${t}`);
      previous = w;
    }
  });

  it('ramps again from the floor after becoming healthy again', () => {
    const e = endpoint('web/1', 1);
    e.slowStartMs = 10_000;
    e.markHealthy(0);
    assert.equal(e.effectiveWeight(20_000), 1);
    e.markUnhealthy();
    e.markHealthy(30_000);
    assert.equal(e.effectiveWeight(30_000), 0.1);
  });
});

describe('Endpoint in-flight tracking', () => {
  it('counts acquired exchanges and forgets released ones', () => {
    const e = endpoint();
    const x = exchange();
    const y = exchange();
    e.acquire(x);
    e.acquire(y);
    assert.equal(e.inFlight, 2);
    assert.ok(e.active.has(x));
    e.release(x);
    assert.equal(e.inFlight, 1);
    assert.equal(e.active.has(x), false);
  });

  it('ignores a second release, and the release of an exchange it never held', () => {
    const e = endpoint();
    const x = exchange();
    e.acquire(x);
    e.release(x);
    e.release(x);
    e.release(exchange());
    assert.equal(e.inFlight, 0);
  });

  it('resolves whenIdle at once when nothing is in flight', async () => {
    await endpoint().whenIdle();
  });

  it('resolves whenIdle only after the last exchange is released', async () => {
    const e = endpoint();
    const x = exchange();
    const y = exchange();
    e.acquire(x);
    e.acquire(y);
    let idle = false;
    const waiting = e.whenIdle().then(() => (idle = true));
    e.release(x);
    await Promise.resolve();
    assert.equal(idle, false);
    e.release(y);
    await waiting;
    assert.equal(idle, true);
  });
});

describe('Endpoint sticky key', () => {
  it('is stable for an id and differs between ids', () => {
    assert.equal(endpoint('web/1').stickyKey, endpoint('web/1').stickyKey);
    assert.notEqual(endpoint('web/1').stickyKey, endpoint('web/2').stickyKey);
  });

  it('reveals neither the address nor the id', () => {
    const e = endpoint('web/10.0.0.5:3000', 1, '10.0.0.5:3000');
    assert.match(e.stickyKey, /^[0-9a-z]+$/);
    assert.ok(!e.stickyKey.includes('10.0.0.5'));
    assert.ok(!e.stickyKey.includes('3000'));
  });
});
