// Specification of FrameTracker: following WebSocket frame boundaries in a byte stream, in any chunking.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOSE_GOING_AWAY_FROM_CLIENT, CLOSE_GOING_AWAY_FROM_SERVER, DRAIN_CLOSE_REASON, FrameTracker } from './websocket-frames.js';

/** One binary frame (FIN set) with `length` payload bytes, optionally masked. */
function frame(length: number, masked: boolean, opcode = 0x2): Buffer {
  const extended = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const head = Buffer.alloc(2 + extended + (masked ? 4 : 0));
  head[0] = 0x80 | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (extended === 0) head[1] = maskBit | length;
  else if (extended === 2) {
    head[1] = maskBit | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  if (masked) head.set([0x12, 0x34, 0x56, 0x78], 2 + extended);
  // Payload bytes that look like frame headers, to catch a tracker that reads into the payload.
  return Buffer.concat([head, Buffer.alloc(length, 0x81)]);
}

/** Feeds `bytes` one at a time; returns the offsets (after each byte) where the tracker was at a boundary. */
function boundariesByteByByte(tracker: FrameTracker, bytes: Buffer): number[] {
  const boundaries: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    assert.equal(tracker.advance(bytes.subarray(i, i + 1), false), 1);
    if (tracker.atBoundary) boundaries.push(i + 1);
  }
  return boundaries;
}

describe('FrameTracker', () => {
  it('starts at a boundary', () => {
    assert.equal(new FrameTracker().atBoundary, true);
  });

  for (const masked of [false, true]) {
    const kind = masked ? 'masked' : 'unmasked';

    it(`follows a small ${kind} frame`, () => {
      const tracker = new FrameTracker();
      const bytes = frame(5, masked);
      assert.equal(tracker.advance(bytes.subarray(0, 3), false), 3);
      assert.equal(tracker.atBoundary, false);
      assert.equal(tracker.advance(bytes.subarray(3), false), bytes.length - 3);
      assert.equal(tracker.atBoundary, true);
      assert.equal(tracker.largestFrame, 5);
    });

    it(`follows a ${kind} frame with a 16-bit length (126)`, () => {
      const tracker = new FrameTracker();
      const bytes = frame(300, masked);
      assert.equal(bytes.length, 300 + 4 + (masked ? 4 : 0));
      assert.equal(tracker.advance(bytes.subarray(0, bytes.length - 1), false), bytes.length - 1);
      assert.equal(tracker.atBoundary, false);
      tracker.advance(bytes.subarray(bytes.length - 1), false);
      assert.equal(tracker.atBoundary, true);
      assert.equal(tracker.largestFrame, 300);
    });

    it(`follows a ${kind} frame with a 64-bit length (127)`, () => {
      const tracker = new FrameTracker();
      const bytes = frame(70_000, masked);
      assert.equal(bytes.length, 70_000 + 10 + (masked ? 4 : 0));
      tracker.advance(bytes.subarray(0, 5000), false);
      tracker.advance(bytes.subarray(5000, bytes.length - 1), false);
      assert.equal(tracker.atBoundary, false);
      tracker.advance(bytes.subarray(bytes.length - 1), false);
      assert.equal(tracker.atBoundary, true);
      assert.equal(tracker.largestFrame, 70_000);
    });

    it(`finds every boundary when ${kind} frames arrive one byte at a time`, () => {
      const frames = [0, 1, 125, 126, 65_536].map((length) => frame(length, masked));
      const stream = Buffer.concat(frames);
      const expected: number[] = [];
      let end = 0;
      for (const f of frames) expected.push((end += f.length));
      assert.deepEqual(boundariesByteByByte(new FrameTracker(), stream), expected);
    });
  }

  it('follows a length written with 8 bytes even when it would fit in 7 bits', () => {
    const tracker = new FrameTracker();
    const head = Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 0, 0, 3]);
    tracker.advance(Buffer.concat([head, Buffer.from([1, 2])]), false);
    assert.equal(tracker.atBoundary, false);
    tracker.advance(Buffer.from([3]), false);
    assert.equal(tracker.atBoundary, true);
  });

  it('treats a frame with no payload as complete after its header', () => {
    const tracker = new FrameTracker();
    tracker.advance(Buffer.from([0x89, 0x00]), false); // ping, empty
    assert.equal(tracker.atBoundary, true);
    tracker.advance(Buffer.from([0x8a, 0x80, 1, 2, 3]), false); // masked pong, mask not complete
    assert.equal(tracker.atBoundary, false);
    tracker.advance(Buffer.from([4]), false);
    assert.equal(tracker.atBoundary, true);
  });

  it('consumes a whole chunk spanning many frames when not asked to stop', () => {
    const tracker = new FrameTracker();
    const stream = Buffer.concat([frame(10, false), frame(200, true), frame(3, false)]);
    assert.equal(tracker.advance(stream, false), stream.length);
    assert.equal(tracker.atBoundary, true);
    assert.equal(tracker.largestFrame, 200);
  });

  describe('advance(chunk, true)', () => {
    it('consumes nothing when already at a boundary', () => {
      const tracker = new FrameTracker();
      assert.equal(tracker.advance(frame(10, false), true), 0);
      assert.equal(tracker.atBoundary, true);
    });

    it('stops exactly at the end of the current frame', () => {
      const tracker = new FrameTracker();
      const first = frame(10, false);
      const second = frame(20, false);
      tracker.advance(first.subarray(0, 4), false);
      const rest = Buffer.concat([first.subarray(4), second]);
      assert.equal(tracker.advance(rest, true), first.length - 4);
      assert.equal(tracker.atBoundary, true);
    });

    it('stops at the end of a frame whose header was split across chunks', () => {
      const tracker = new FrameTracker();
      const first = frame(300, true); // 8-byte header
      const second = frame(1, false);
      tracker.advance(first.subarray(0, 3), false); // mid-header
      const rest = Buffer.concat([first.subarray(3), second]);
      assert.equal(tracker.advance(rest, true), first.length - 3);
      assert.equal(tracker.atBoundary, true);
    });

    it('consumes the whole chunk when the frame ends exactly at its end', () => {
      const tracker = new FrameTracker();
      const bytes = frame(50, true);
      tracker.advance(bytes.subarray(0, 10), false);
      assert.equal(tracker.advance(bytes.subarray(10), true), bytes.length - 10);
      assert.equal(tracker.atBoundary, true);
    });

    it('consumes the whole chunk when the frame goes on past it', () => {
      const tracker = new FrameTracker();
      const bytes = frame(50, false);
      tracker.advance(bytes.subarray(0, 1), false);
      assert.equal(tracker.advance(bytes.subarray(1, 20), true), 19);
      assert.equal(tracker.atBoundary, false);
    });

    it('lets the rest of the chunk be followed afterwards', () => {
      const tracker = new FrameTracker();
      const first = frame(10, false);
      const second = frame(130, true);
      tracker.advance(first.subarray(0, 2), false);
      const rest = Buffer.concat([first.subarray(2), second]);
      const upTo = tracker.advance(rest, true);
      assert.equal(tracker.advance(rest.subarray(upTo), false), second.length);
      assert.equal(tracker.atBoundary, true);
    });
  });
});

describe('close frames with status 1001', () => {
  it('are complete frames a tracker follows to a boundary', () => {
    for (const close of [CLOSE_GOING_AWAY_FROM_SERVER, CLOSE_GOING_AWAY_FROM_CLIENT]) {
      const tracker = new FrameTracker();
      assert.equal(tracker.advance(close, false), close.length);
      assert.equal(tracker.atBoundary, true);
      assert.equal(tracker.largestFrame, 2 + Buffer.byteLength(DRAIN_CLOSE_REASON));
    }
  });

  it('carry the close opcode and the code 1001, masked only from the client side', () => {
    assert.equal(CLOSE_GOING_AWAY_FROM_SERVER[0], 0x88);
    assert.equal(CLOSE_GOING_AWAY_FROM_SERVER[1]! & 0x80, 0);
    assert.equal(CLOSE_GOING_AWAY_FROM_SERVER.readUInt16BE(2), 1001);
    assert.equal(CLOSE_GOING_AWAY_FROM_CLIENT[0], 0x88);
    assert.equal(CLOSE_GOING_AWAY_FROM_CLIENT[1]! & 0x80, 0x80);
    assert.equal(CLOSE_GOING_AWAY_FROM_CLIENT.readUInt16BE(6), 1001); // a zero mask leaves the bytes as they are
    assert.equal(CLOSE_GOING_AWAY_FROM_SERVER.subarray(4).toString(), DRAIN_CLOSE_REASON);
    assert.equal(CLOSE_GOING_AWAY_FROM_CLIENT.subarray(8).toString(), DRAIN_CLOSE_REASON);
  });
});
