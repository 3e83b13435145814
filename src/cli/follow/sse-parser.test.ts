// The SSE parser against the daemon's framing: comments, CRLF, multi-line data, any chunk split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from './sse-parser.js';

describe('SseParser', () => {
  it('reads id, event and data, whatever the chunk boundaries', () => {
    const text = 'retry: 2000\n\nid: 7\nevent: step.started\ndata: {"a":1}\n\n: keep-alive\n\nid: 8\r\ndata: x\r\ndata: y\r\n\r\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      const messages = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      assert.deepEqual(messages, [
        { id: '7', event: 'step.started', data: '{"a":1}' },
        { id: '8', event: 'message', data: 'x\ny' },
      ]);
    }
  });
});
