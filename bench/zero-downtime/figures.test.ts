// Specification of the bench's own arithmetic: the schedule, the SSE reader, percentiles, and which
// failures a SIGKILL excuses. Pure; no processes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { excuse, percentile } from './figures.js';
import { SseParser } from './load/sse.js';
import { spreadOver, type Failure } from './load/recorder.js';
import { CYCLE, schedule } from './scenarios.js';
import { parseOptions } from './options.js';

const failure = (over: Partial<Failure>): Failure => ({
  cls: 'sse',
  kind: 'truncated',
  start: 1000,
  end: 3000,
  phase: 'deploy',
  label: 'deploy 1',
  pid: 42,
  connectedAt: 1200,
  detail: '',
  ...over,
});

describe('the deploy schedule', () => {
  it('starts with every strategy, a failing canary and a never-healthy release, so a short run is the head of a long one', () => {
    assert.deepEqual(
      schedule(5).map((s) => s.kind),
      ['rolling', 'blue-green', 'rollback', 'canary-injected', 'never-healthy'],
    );
    assert.deepEqual(schedule(25).map((s) => s.kind).slice(0, CYCLE.length), [...CYCLE]);
  });

  it('puts every rollback right after a blue-green deploy, and expects the faults to be rolled back', () => {
    const all = schedule(100);
    for (const s of all.filter((x) => x.kind === 'rollback')) assert.equal(all[s.index - 1]?.kind, 'blue-green');
    for (const s of all) {
      const rolledBack = ['canary-injected', 'never-healthy', 'canary-abort'].includes(s.kind);
      assert.equal(s.expect, rolledBack ? 'rolled-back' : 'succeeded', s.kind);
    }
    assert.deepEqual(all.find((s) => s.kind === 'canary-injected')?.env, { FAILURE_RATE: '0.3' });
    assert.deepEqual(all.find((s) => s.kind === 'never-healthy')?.env, { HEALTHY: '0' });
  });

  it('gives every deploy its own version label', () => {
    const versions = schedule(100).flatMap((s) => (s.version === null ? [] : [s.version]));
    assert.equal(new Set(versions).size, versions.length);
  });
});

describe('the SSE reader', () => {
  it('counts messages and sees a complete stream end', () => {
    const p = new SseParser();
    p.push('data: {"i":0}\n\nda');
    p.push('ta: {"i":1}\n\n');
    assert.equal(p.complete, false);
    p.push('event: end\ndata: {"count":2}\n\n');
    assert.equal(p.messages, 2);
    assert.equal(p.complete, true);
  });

  it('calls a stream without the end event, or with a count that does not match, incomplete', () => {
    const cut = new SseParser();
    cut.push('data: 1\n\ndata: 2\n\n');
    assert.equal(cut.complete, false);
    const short = new SseParser();
    short.push('data: 1\n\nevent: end\ndata: {"count":3}\n\n');
    assert.equal(short.ended, true);
    assert.equal(short.complete, false);
  });
});

describe('the figures', () => {
  it('takes the nearest-rank percentile', () => {
    assert.equal(percentile([], 0.99), null);
    assert.equal(percentile([5, 1, 3], 0.5), 3);
    assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99), 99);
  });

  it('excuses only streams, sessions and uploads cut on the killed process while open, with the evidence', () => {
    const kills = [{ pid: 42, at: 2000 }];
    assert.deepEqual(excuse(failure({}), kills), { class: 'sse', reason: 'truncated: in flight on pid 42 when it was killed', pid: 42, connectedAt: 1200, killedAt: 2000 });
    assert.equal(excuse(failure({ cls: 'ws', kind: 'ws-close' }), kills)?.pid, 42);
    assert.equal(excuse(failure({ cls: 'upload' }), kills)?.pid, 42, 'an upload whose answer had begun cannot be replayed');
    assert.equal(excuse(failure({ pid: 7 }), kills), null, 'another process');
    assert.equal(excuse(failure({ pid: null }), kills), null, 'no evidence of the process');
    assert.equal(excuse(failure({ end: 1500 }), kills), null, 'over before the kill');
    assert.equal(excuse(failure({ connectedAt: 2100, start: 2006 }), kills), null, 'started after the kill');
    assert.equal(excuse(failure({ connectedAt: null }), kills), null, 'never connected');
    assert.equal(excuse(failure({ cls: 'ws', kind: '5xx' }), kills), null, 'a failed handshake is never excused');
    assert.equal(excuse(failure({ kind: 'connection' }), kills), null, 'a failed connect is never excused');
    assert.equal(excuse(failure({ cls: 'get' }), kills), null, 'a GET can be retried');
    assert.equal(excuse(failure({ kind: 'timeout' }), kills), null, 'a kill does not excuse a timeout');
  });

  it('spreads a completion over the seconds it lasted', () => {
    const perSecond: number[] = [];
    spreadOver(perSecond, 500, 2500);
    spreadOver(perSecond, 3100, 3200);
    assert.deepEqual(perSecond, [0.25, 0.5, 0.25, 1]);
  });
});

describe('the options', () => {
  it('runs a few deploys by default and caps the baselines at 10 restarts', () => {
    assert.equal(parseOptions([]).deploys, 5);
    assert.equal(parseOptions(['--deploys', '100']).compareDeploys, 10);
    assert.deepEqual(parseOptions(['--no-compare']).targets, ['switchyard']);
    assert.throws(() => parseOptions(['--deploys', '0']), /--deploys/);
  });
});
