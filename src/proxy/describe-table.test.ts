import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTable } from './describe-table.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { buildTable, ServiceStates } from './routing-table.js';
import { serviceSpec } from '../../test/helpers/proxy.js';

describe('describeTable', () => {
  it('gives the version and every endpoint of every release with its routing state', () => {
    const registry = new EndpointRegistry();
    const spec = serviceSpec([
      { name: 'v1', weight: 90, endpoints: [{ id: 'a', address: '127.0.0.1:1', weight: 1, healthy: false, healthySince: 0 }, { id: 'b', address: '127.0.0.1:2', weight: 1, healthy: false, healthySince: 0 }] },
      { name: 'v2', weight: 10, endpoints: [{ id: 'c', address: '127.0.0.1:3', weight: 1, healthy: false, healthySince: 0 }] },
    ]);
    const table = buildTable({ services: [spec] }, 7, registry, new ServiceStates());
    const now = Date.now();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => registry.get(id)!);
    a!.markHealthy(now);
    b!.markHealthy(now);
    b!.ejectedUntil = now + 1000;
    c!.markHealthy(now);
    c!.draining = true;
    c!.inFlight = 2;
    const view = describeTable(table, now);
    assert.equal(view.version, 7);
    assert.deepEqual(view.services.web!.releases, [
      {
        name: 'v1',
        weight: 90,
        endpoints: [
          { id: 'a', address: '127.0.0.1:1', healthy: true, draining: false, available: true, inFlight: 0 },
          { id: 'b', address: '127.0.0.1:2', healthy: true, draining: false, available: false, inFlight: 0 },
        ],
      },
      { name: 'v2', weight: 10, endpoints: [{ id: 'c', address: '127.0.0.1:3', healthy: true, draining: true, available: false, inFlight: 2 }] },
    ]);
    for (const e of registry.all()) void e.pool.destroy();
  });
});
