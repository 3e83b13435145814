// Passes a request body through while counting it, and calls `onExceeded` (once) when it grows past
// the limit; nothing more is passed on after that.
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
    this.received += chunk.length;
    if (this.received > this.max) {
      this.onExceeded();
      callback(new Error('request body over the size limit'));
      return;
    }
    callback(null, chunk);
  }
}
