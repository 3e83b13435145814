import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topSelfTime } from './profile.js';

const frame = (id: number, functionName: string, url = '', lineNumber = -1) => ({
  id,
  callFrame: { functionName, url, lineNumber, columnNumber: 0, scriptId: '0' },
});

describe('--profile self-time ranking', () => {
  it('credits each sample with the gap to the next one, adds up by function and leaves idle out', () => {
    const profile = {
      nodes: [frame(1, '(root)'), frame(2, 'forward', 'file:///app/dist/proxy/exchange.js', 41), frame(3, ''), frame(4, '(idle)')],
      samples: [2, 2, 3, 4, 2],
      timeDeltas: [0, 10_000, 20_000, 5_000, 40_000],
    };
    const top = topSelfTime(profile, 10);
    assert.deepEqual(
      top.map((h) => [h.name, h.selfMs]),
      [
        ['forward /app/dist/proxy/exchange.js:42', 30],
        ['(anonymous)', 5],
      ],
    );
    assert.equal(Math.round(top[0]?.percent ?? 0), 86);
  });

  it('adds up one function reached through different stacks', () => {
    const profile = {
      nodes: [frame(1, 'parse', 'file:///a.js', 9), frame(2, 'parse', 'file:///a.js', 9)],
      samples: [1, 2, 1],
      timeDeltas: [0, 1000, 1000],
    };
    assert.deepEqual(topSelfTime(profile, 5), [{ name: 'parse /a.js:10', selfMs: 2, percent: 100 }]);
  });

  it('rejects a file that is not a CPU profile', () => {
    assert.throws(() => topSelfTime({ nodes: [] }, 5), /not a \.cpuprofile/);
  });
});
