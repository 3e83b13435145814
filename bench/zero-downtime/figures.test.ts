// Specification of the bench's own arithmetic: the schedule, the SSE reader, percentiles, and which
// failures a SIGKILL excuses. Pure; no processes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareApps } from './daemon-faults.js';
import { deadlineCut } from './drain-deadline.js';
import { excuse, percentile } from './figures.js';
import { SseParser } from './load/sse.js';
import { errorKind, spreadOver, type Failure } from './load/recorder.js';
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
  it('starts with an upgrade mid-deploy, every strategy, a failing canary, a never-healthy release and a controller crash, so a short run is the head of a long one', () => {
    assert.deepEqual(
      schedule(7).map((s) => s.kind),
      ['rolling-upgrade', 'blue-green', 'rollback', 'canary-injected', 'never-healthy', 'controller-sigkill', 'upgrade'],
    );
    assert.deepEqual(schedule(25).map((s) => s.kind).slice(0, CYCLE.length), [...CYCLE]);
  });

  it('puts every rollback right after a blue-green deploy, and expects the faults to be rolled back', () => {
    const all = schedule(100);
    for (const s of all.filter((x) => x.kind === 'rollback')) assert.equal(all[s.index - 1]?.kind, 'blue-green');
    for (const s of all) {
      const rolledBack = ['canary-injected', 'never-healthy', 'canary-abort'].includes(s.kind);
      assert.equal(s.expect, s.kind === 'upgrade' ? 'upgraded' : rolledBack ? 'rolled-back' : 'succeeded', s.kind);
    }
    assert.ok(all.filter((s) => s.kind === 'upgrade').every((s) => s.version === null && s.strategy === null), 'an upgrade on its own deploys nothing');
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

  it('leaves out only an SSE stream open at the hand-over and cut when the old generation reached its drain deadline and exited, with the evidence', () => {
    // Generation 1 seen handing over at 10 s, drain 6 s, its last process gone at 16.2 s.
    const handovers = [{ generation: 1, servingAt: 10_000, exitedAt: 16_200 }];
    const cut = failure({ start: 9_000, connectedAt: 9_010, end: 16_050 });
    assert.deepEqual(deadlineCut(cut, handovers, 6000), { class: 'sse', generation: 1, connectedAt: 9_010, end: 16_050, deadlineFrom: 15_000, exitedAt: 16_200, pid: 42 });
    assert.equal(deadlineCut(failure({ start: 9_000, connectedAt: 9_010, end: 14_000 }), handovers, 6000), null, 'cut before the deadline');
    assert.equal(deadlineCut(failure({ start: 9_000, connectedAt: 9_010, end: 17_000 }), handovers, 6000), null, 'cut after the old generation was gone');
    // Begun on an old connection after the hand-over, a stream has a drain timeout of its own: never excused.
    assert.equal(deadlineCut(failure({ start: 13_000, connectedAt: 13_010, end: 16_050 }), handovers, 6000), null, 'began after the hand-over');
    assert.equal(deadlineCut(failure({ start: 15_500, connectedAt: 15_510, end: 16_050 }), handovers, 6000), null, 'began once the deadline may have passed');
    assert.equal(deadlineCut({ ...cut, cls: 'ws', kind: 'ws-close' }, handovers, 6000), null, 'a WebSocket is closed with 1001 and its reason, never cut');
    assert.equal(deadlineCut({ ...cut, kind: 'connection', connectedAt: null }, handovers, 6000), null, 'a stream that never began');
    assert.equal(deadlineCut({ ...cut, cls: 'slow' }, handovers, 6000), null, 'a request');
    assert.equal(deadlineCut(cut, [], 6000), null, 'no upgrade');
  });

  it('counts a refused connect apart from other connection errors', () => {
    assert.equal(errorKind(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), false), 'refused');
    assert.equal(errorKind(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), false), 'connection');
    assert.equal(errorKind(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), true), 'truncated');
  });

  it('spreads a completion over the seconds it lasted', () => {
    const perSecond: number[] = [];
    spreadOver(perSecond, 500, 2500);
    spreadOver(perSecond, 3100, 3200);
    assert.deepEqual(perSecond, [0.25, 0.5, 0.25, 1]);
  });
});

describe('the app processes across an upgrade or a controller crash', () => {
  const app = (instance: string, pid: number, version = 'v1') => ({ instance, pid, version });

  it('keeps every instance under its PID, or names what changed', () => {
    const before = [app('web-1-1', 10), app('web-1-2', 11)];
    assert.deepEqual(compareApps(before, [...before].reverse(), { from: null, to: null }).problems, []);
    assert.equal(compareApps(before, before, { from: null, to: null }).kept, 2);
    assert.deepEqual(compareApps(before, [app('web-1-1', 10), app('web-1-2', 12)], { from: null, to: null }).problems, ['web-1-2 (v1) restarted: pid 11 → 12']);
    assert.deepEqual(compareApps(before, [app('web-1-1', 10)], { from: null, to: null }).problems, ['web-1-2 (v1, pid 11) is gone']);
    assert.deepEqual(compareApps(before, [...before, app('web-1-3', 13)], { from: null, to: null }).problems, ['web-1-3 (v1, pid 13) was started']);
  });

  it('leaves the deployment its own stops of the outgoing release and starts of the target, nothing else', () => {
    const before = [app('web-1-1', 10), app('web-1-2', 11)];
    const after = [app('web-1-2', 11), app('web-2-1', 20, 'v2')];
    const check = compareApps(before, after, { from: 'v1', to: 'v2' });
    assert.deepEqual(check.problems, []);
    assert.deepEqual([check.kept, check.stoppedByDeploy, check.startedByDeploy], [1, ['web-1-1'], ['web-2-1']]);
    assert.deepEqual(compareApps(before, [app('web-1-1', 10), app('web-1-2', 11), app('web-1-9', 19)], { from: 'v1', to: 'v2' }).problems, ['web-1-9 (v1, pid 19) was started']);
  });
});

describe('the options', () => {
  it('runs a few deploys by default and caps the baselines at 10 restarts', () => {
    assert.equal(parseOptions([]).deploys, 7);
    assert.equal(parseOptions([]).upgrades, null);
    assert.equal(parseOptions(['--deploys', '100']).compareDeploys, 10);
    assert.deepEqual(parseOptions(['--no-compare']).targets, ['switchyard']);
    assert.throws(() => parseOptions(['--deploys', '0']), /--deploys/);
  });

  it('compares an upgrade run with today\'s restart and pm2 update, and refuses targets that do not apply', () => {
    const o = parseOptions(['--upgrades', '100']);
    assert.equal(o.upgrades, 100);
    assert.equal(o.compareDeploys, 10);
    assert.deepEqual(o.targets, ['switchyard', 'restart', 'pm2']);
    assert.deepEqual(parseOptions([]).targets, ['switchyard', 'naive', 'pm2']);
    assert.throws(() => parseOptions(['--upgrades', '3', '--targets', 'naive']), /unknown target "naive" with --upgrades/);
    assert.throws(() => parseOptions(['--targets', 'restart']), /unknown target "restart"/);
    assert.throws(() => parseOptions(['--upgrades', '3', '--deploys', '3']), /choose one/);
  });
});
