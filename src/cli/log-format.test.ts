import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { chooseLogFormat, formatLogLine, humanLogStream } from './log-format.js';
import { palette } from './render/style.js';

const plain = palette(false);
const at = new Date(2026, 0, 2, 3, 4, 5).getTime();

describe('formatLogLine', () => {
  it('turns a pino line into time, level word, message and the fields that matter', () => {
    const line = JSON.stringify({ level: 40, time: at, service: 'web', type: 'instance.crashed', msg: 'web-v1-1: exited with code 127 (restart 1)' });
    assert.equal(formatLogLine(line, plain), '03:04:05 WARN  web-v1-1: exited with code 127 (restart 1)  service=web');
  });

  it("shows an instance's output lines under the line, and an error's stack", () => {
    const crash = JSON.stringify({ level: 50, time: at, msg: 'failed', output: ['/bin/sh: 1: nodee: not found'] });
    assert.equal(formatLogLine(crash, plain), '03:04:05 ERROR failed\n    | /bin/sh: 1: nodee: not found');
    const err = JSON.stringify({ level: 50, time: at, msg: 'admin API error', err: { message: 'boom', stack: 'Error: boom\n    at x' } });
    assert.equal(formatLogLine(err, plain), '03:04:05 ERROR admin API error\n    Error: boom\n        at x');
  });

  it('lists arrays plainly and quotes values with spaces', () => {
    const line = JSON.stringify({ level: 30, time: at, msg: 'switchyard is up', proxy: ['127.0.0.1:8080', '[::1]:8080'], reason: 'two words' });
    assert.equal(formatLogLine(line, plain), '03:04:05 INFO  switchyard is up  proxy=127.0.0.1:8080,[::1]:8080 reason="two words"');
  });

  it('passes through what is not a JSON log line', () => {
    assert.equal(formatLogLine('plain text from an app', plain), 'plain text from an app');
    assert.equal(formatLogLine('{"not":"a log"}', plain), '{"not":"a log"}');
  });

  it('colours the level word when colour is on', () => {
    const line = formatLogLine(JSON.stringify({ level: 40, time: at, msg: 'x' }), palette(true));
    assert.ok(line.includes('\u001b[33mWARN '), line);
  });
});

describe('humanLogStream', () => {
  it('formats a stream of JSON lines cut anywhere, in order', async () => {
    const out = new PassThrough();
    let text = '';
    out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const stream = humanLogStream(out, { color: false });
    const a = JSON.stringify({ level: 30, time: at, msg: 'first' });
    const b = JSON.stringify({ level: 40, time: at, msg: 'second' });
    const all = `${a}\n${b}\n`;
    stream.write(all.slice(0, 10));
    stream.write(Buffer.from(all.slice(10, a.length + 5)));
    stream.write(all.slice(a.length + 5));
    await new Promise<void>((resolve) => stream.end(resolve));
    assert.equal(text, '03:04:05 INFO  first\n03:04:05 WARN  second\n');
  });
});

describe('chooseLogFormat', () => {
  it('is human on a terminal, JSON elsewhere, and what the operator chose', () => {
    assert.equal(chooseLogFormat(undefined, { isTTY: true }), 'human');
    assert.equal(chooseLogFormat(undefined, {}), 'json');
    assert.equal(chooseLogFormat('json', { isTTY: true }), 'json');
    assert.equal(chooseLogFormat('human', {}), 'human');
  });
});
