import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterStatus } from './cluster-status.js';
import { palette } from './style.js';

describe('clusterStatus', () => {
  it('names the leader, this host, each host with its state, revision and instances', () => {
    const text = clusterStatus(palette(false), {
      node: 'h2',
      leader: 'h1',
      revision: 88,
      hosts: [
        { node: 'h3', live: false, revision: 80, instances: [] },
        { node: 'h1', live: true, revision: 88, instances: [{ id: 'web-v2-1', service: 'web', state: 'ready', healthy: true, address: '10.0.0.1:4000', pid: 11 }] },
        { node: 'h2', live: true, revision: 88, instances: [{ id: 'web-v2-2', service: 'web', state: 'ready', healthy: false, address: '10.0.0.2:4000', pid: 12 }] },
      ],
    });
    const lines = text.split('\n');
    assert.equal(lines[0], 'cluster: 3 hosts, 2 live; leader h1; this host h2, at revision 88');
    assert.match(lines[1]!, /^ {2}HOST\s+STATE\s+REVISION\s+INSTANCES$/);
    assert.match(lines[2]!, /^ {2}h1\s+live\s+88\s+web-v2-1 ready$/);
    assert.match(lines[3]!, /^ {2}h2 \(this\)\s+live\s+88\s+web-v2-2 ready \(unhealthy\)$/);
    assert.match(lines[4]!, /^ {2}h3\s+down\s+80\s+-$/);
  });

  it('says when no host leads', () => {
    assert.match(clusterStatus(palette(false), { node: 'h1', leader: null, revision: 0, hosts: [] }), /^cluster: 0 hosts, 0 live; no leader; this host h1/);
  });
});
