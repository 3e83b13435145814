// Specification of createBalancer: each policy name builds its balancer over the release's endpoints.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Endpoint } from '../endpoint.js';
import { HashBalancer } from './hash.js';
import { createBalancer, type BalanceAlgorithm } from './index.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RandomTwoBalancer } from './random-two.js';
import { RoundRobinBalancer } from './round-robin.js';

const only = new Endpoint('web/1', '192.0.2.1:80', 1, { connect: 1000, keepAlive: 4000 });
only.markHealthy(0);

after(async () => {
  await only.pool.destroy();
});

describe('createBalancer', () => {
  const cases: [BalanceAlgorithm, abstract new (...args: never[]) => unknown][] = [
    ['round-robin', RoundRobinBalancer],
    ['least-connections', LeastConnectionsBalancer],
    ['random-two', RandomTwoBalancer],
    ['hash', HashBalancer],
  ];
  for (const [algorithm, kind] of cases) {
    it(`builds a working ${algorithm} balancer`, () => {
      const balancer = createBalancer(algorithm, [only]);
      assert.ok(balancer instanceof kind);
      assert.equal(balancer.pick({ now: 1, keyHash: 12345, exclude: null }), only);
      assert.equal(balancer.pick({ now: 1, keyHash: 12345, exclude: [only] }), undefined);
    });
  }
});
