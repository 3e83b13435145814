// Passes a request body through while counting it, and calls `onExceeded` (once) when it grows past
// the limit; nothing more is passed on after that. It never emits an error: the exchange has already
// answered 413 and let go of the upstream, and an unheard error would bring the process down.
import { Transform, type TransformCallback } from 'node:stream';

export class BodyLimit extends Transform {
  private received = 0;

  constructor(
    private readonly max: number,
    private readonly onExceeded: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.received > this.max) return callback();
    this.received += chunk.length;
    if (this.received > this.max) {
      this.onExceeded();
      return callback();
    }
    callback(null, chunk);
  }
}
