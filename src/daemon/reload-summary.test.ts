// Specification of the reload summary: which changes apply now, at the next deploy, or after a restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/index.js';
import { reloadSummary } from './reload-summary.js';

const base = (web: string, extra = '') =>
  parseConfig(`proxy: { listen: 127.0.0.1:8080 }\nservices:\n  web:\n${web}\n${extra}`, '/tmp/switchyard.yaml', {});

describe('reloadSummary', () => {
  it('says nothing changed when nothing did', () => {
    const web = '    run: { command: node server.js, version: v1 }';
    assert.deepEqual(reloadSummary(base(web), base(web)), { now: [], nextDeploy: [], restart: [] });
  });

  it('sorts changes by when they take effect', () => {
    const before = base('    run: { command: node server.js, version: v1 }\n    balance: round-robin');
    const after = parseConfig(
      [
        'proxy: { listen: 127.0.0.1:9090 }',
        'services:',
        '  web:',
        '    run: { command: node app.js, version: v1 }',
        '    balance: least-connections',
        '    deploy: { strategy: canary }',
        '  api:',
        '    targets: [127.0.0.1:3000]',
        '    match: { pathPrefix: /api }',
      ].join('\n'),
      '/tmp/switchyard.yaml',
      {},
    );
    assert.deepEqual(reloadSummary(before, after), {
      now: ['services.web.balance', 'services.api (new: starting now)'],
      nextDeploy: ['services.web.run', 'services.web.deploy'],
      restart: ['proxy.listen'],
    });
  });
});
