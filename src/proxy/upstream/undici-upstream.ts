// The fallback upstream client: undici's public `Pool.dispatch`, behind the same interface as the lean
// client, for a Node whose internal HTTP parser failed the start-up self-test. Slower (see
// docs/ARCHITECTURE.md), but it uses only public APIs.
import { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import type { Upstream, UpstreamHandler, UpstreamRequest } from './connection.js';

export class UndiciUpstream implements Upstream {
  constructor(private readonly pool: Pool) {}

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const options: Dispatcher.DispatchOptions = {
      path: request.path,
      method: request.method,
      headers: request.headers as string[],
      // undici frames a body of unknown length with chunked encoding itself.
      body: request.body === null ? null : untilRead(request.body),
      headersTimeout: request.headersTimeout,
      bodyTimeout: request.bodyTimeout,
    };
    this.pool.dispatch(options, new Adapter(handler));
  }

  /** The pool is the endpoint's (it also carries WebSocket handshakes): the registry destroys it. */
  destroy(): void {}
}

/**
 * The request body as undici reads it, pulled from `source` only once undici starts writing it. undici
 * destroys a body when an attempt fails (a refused connect, say); the exchange may retry on another
 * endpoint, so the client's own stream must survive that and must not have been read yet.
 */
function untilRead(source: Readable): Readable {
  let attached = false;
  const onData = (chunk: Buffer) => {
    if (!body.push(chunk)) source.pause();
  };
  const onEnd = () => body.push(null);
  const onError = (err: Error) => body.destroy(err);
  const body = new Readable({
    read() {
      if (attached) return void source.resume();
      attached = true;
      source.on('data', onData).once('end', onEnd).once('error', onError);
      if (source.readableEnded) body.push(null);
      // An earlier attempt may have paused it.
      else source.resume();
    },
    destroy(err, callback) {
      source.off('data', onData).off('end', onEnd).off('error', onError);
      callback(err);
    },
  });
  return body;
}

/** undici's handler callbacks in terms of UpstreamHandler (headers as latin1 strings). */
class Adapter implements Dispatcher.DispatchHandler {
  constructor(private readonly handler: UpstreamHandler) {}

  onConnect(abort: (err?: Error) => void): void {
    this.handler.onConnect(abort);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    const headers = rawHeaders.map((h) => h.toString('latin1'));
    return this.handler.onHeaders(statusCode, headers, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData(chunk);
  }

  onComplete(): void {
    this.handler.onComplete();
  }

  onError(err: Error): void {
    this.handler.onError(err);
  }
}
