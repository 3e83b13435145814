import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roleOf } from './cpu.js';
import { loopWindow, parseLoopSnapshot } from './switchyard-metrics.js';

function exposition(ticks: [number, number, number], gc: [number, number], sum: number): string {
  const [fast, slow, inf] = ticks;
  return [
    `switchyard_event_loop_delay_seconds_bucket{process="proxy-1",le="0.001"} ${fast}`,
    `switchyard_event_loop_delay_seconds_bucket{process="proxy-1",le="0.005"} ${fast + slow}`,
    `switchyard_event_loop_delay_seconds_bucket{process="proxy-1",le="+Inf"} ${fast + slow + inf}`,
    `switchyard_event_loop_delay_seconds_sum{process="proxy-1"} ${sum}`,
    `switchyard_event_loop_delay_seconds_count{process="proxy-1"} ${fast + slow + inf}`,
    // The controller's loop is not the data plane's: left out.
    'switchyard_event_loop_delay_seconds_bucket{process="controller",le="+Inf"} 999',
    'switchyard_event_loop_delay_seconds_count{process="controller"} 999',
    `switchyard_gc_pause_seconds_bucket{process="proxy-1",le="0.001"} ${gc[0]}`,
    `switchyard_gc_pause_seconds_bucket{process="proxy-1",le="0.005"} ${gc[0] + gc[1]}`,
    `switchyard_gc_pause_seconds_bucket{process="proxy-1",le="+Inf"} ${gc[0] + gc[1]}`,
    `switchyard_gc_pause_seconds_sum{process="proxy-1"} ${gc[0] * 0.0005 + gc[1] * 0.003}`,
    `switchyard_gc_pause_seconds_count{process="proxy-1"} ${gc[0] + gc[1]}`,
  ].join('\n');
}

describe("switchyard's loop figures over a window", () => {
  it('reads the proxy workers\' histograms from /metrics and tells what happened between two reads', () => {
    const before = parseLoopSnapshot(exposition([100, 0, 0], [10, 0], 0.01));
    const after = parseLoopSnapshot(exposition([1080, 15, 5], [30, 2], 0.5));
    const window = loopWindow(before, after);
    assert.equal(window.ticks, 1000);
    assert.equal(window.delayP99Ms, 5, '98% of ticks under 1 ms, 99.5% under 5 ms');
    assert.equal(window.delayMaxMs, Infinity);
    assert.equal(window.stallsOver5Ms, 5);
    assert.equal(window.gcPauses, 22);
    assert.equal(window.gcMaxMs, 5);
    assert.ok(Math.abs(window.gcTotalMs - (20 * 0.5 + 2 * 3)) < 1e-9);
  });

  it("tells switchyard's processes apart by command line", () => {
    assert.equal(roleOf('/usr/bin/node /x/dist/daemon/worker-main.js'), 'worker');
    assert.equal(roleOf('switchyard proxy 2 (generation 1)'), 'worker');
    assert.equal(roleOf('/usr/bin/node /x/dist/daemon/controller-main.js'), 'controller');
    assert.equal(roleOf('nginx: worker process'), 'main');
  });
});
