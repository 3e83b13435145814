// Follows WebSocket frame boundaries in a byte stream without buffering payloads, so the proxy can
// insert its own close frame between two frames (never inside one) when a drain deadline comes.

/**
 * The close reason switchyard writes when a drain deadline ends a WebSocket, so a client can tell
 * switchyard's 1001 (the deadline passed, as invariant 9 promises) from an app's own 1001.
 */
export const DRAIN_CLOSE_REASON = 'switchyard: drain deadline';
const REASON = Buffer.from(DRAIN_CLOSE_REASON, 'utf8');

/** Close frame with status 1001 (going away) and the drain reason, as a server sends it (unmasked). */
export const CLOSE_GOING_AWAY_FROM_SERVER = Buffer.concat([Buffer.from([0x88, 2 + REASON.length, 0x03, 0xe9]), REASON]);

/** Close frame with status 1009 (message too big), from the server side. */
export const CLOSE_TOO_BIG_FROM_SERVER = Buffer.from([0x88, 0x02, 0x03, 0xf1]);

/** Close frame with status 1001 and the drain reason as a client must send it (a zero mask is valid). */
export const CLOSE_GOING_AWAY_FROM_CLIENT = Buffer.concat([Buffer.from([0x88, 0x80 | (2 + REASON.length), 0, 0, 0, 0, 0x03, 0xe9]), REASON]);

export class FrameTracker {
  private readonly header = Buffer.alloc(14);
  private headerLength = 0;
  private payloadLeft = 0;
  /** Payload length of the largest frame seen so far. */
  largestFrame = 0;

  get atBoundary(): boolean {
    return this.headerLength === 0 && this.payloadLeft === 0;
  }

  /**
   * Follows `chunk` and returns how many of its bytes were consumed: all of them, or with
   * `stopAtBoundary`, only up to the first frame boundary (0 when already at one).
   */
  advance(chunk: Uint8Array, stopAtBoundary: boolean): number {
    let i = 0;
    while (i < chunk.length) {
      if (stopAtBoundary && this.atBoundary) return i;
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - i);
        this.payloadLeft -= take;
        i += take;
        continue;
      }
      this.header[this.headerLength++] = chunk[i++]!;
      if (this.headerLength >= 2 && this.headerLength === headerSize(this.header)) {
        this.payloadLeft = payloadLength(this.header);
        if (this.payloadLeft > this.largestFrame) this.largestFrame = this.payloadLeft;
        this.headerLength = 0;
      }
    }
    return i;
  }
}

function headerSize(header: Buffer): number {
  const len7 = header[1]! & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const mask = header[1]! & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

function payloadLength(header: Buffer): number {
  const len7 = header[1]! & 0x7f;
  if (len7 === 126) return header.readUInt16BE(2);
  if (len7 === 127) return Number(header.readBigUInt64BE(2));
  return len7;
}
