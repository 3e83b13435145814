import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventLevel } from './event-log.js';

describe('eventLevel', () => {
  it('makes crashes, failing health checks and rollbacks warnings or errors', () => {
    assert.equal(eventLevel('instance.crashed'), 'warn');
    assert.equal(eventLevel('instance.unhealthy'), 'warn');
    assert.equal(eventLevel('deployment.rolling-back'), 'warn');
    assert.equal(eventLevel('analysis.fail'), 'warn');
    assert.equal(eventLevel('deployment.rolled-back'), 'error');
    assert.equal(eventLevel('deployment.failed'), 'error');
    assert.equal(eventLevel('hook.preDeploy.failed'), 'error');
    assert.equal(eventLevel('service.degraded'), 'error');
  });

  it('keeps the ordinary course of a deployment at info', () => {
    for (const type of ['deployment.progressing', 'step.started', 'instance.ready', 'deployment.succeeded', 'analysis.pass']) assert.equal(eventLevel(type), 'info', type);
  });
});
