// Typed access to Node's own HTTP/1.1 parser (llhttp, the one node:http uses), for the upstream client.
// It is exported by the long-standing but internal `_http_common` module, so it is loaded lazily and
// checked at start (parser-self-test.ts): if it is missing or misbehaves on some Node version,
// switchyard proxies through undici's public API instead (undici-upstream.ts).
import { createRequire } from 'node:module';

export interface NativeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  /** Bytes parsed, or the parse error. */
  execute(data: Buffer): number | Error;
  /** End of input (for responses delimited by the connection closing). */
  finish(): number | Error | undefined;
  close(): void;
  free(): void;
  [key: number]: unknown;
}

export interface NativeHttpParserClass {
  new (): NativeHttpParser;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

export type OnHeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number,
  statusMessage: string,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;

/** What a response parser reports, in the order it happens. */
export interface ResponseCallbacks {
  /** Header lines that arrived before the head was complete (long heads come in parts). */
  onHeaders: (headers: string[]) => void;
  /** Return 1 to say the response has no body (a HEAD request's answer). */
  onHeadersComplete: OnHeadersComplete;
  onBody: (chunk: Buffer) => void;
  onMessageComplete: () => void;
}

let loaded: NativeHttpParserClass | Error | undefined;

/** Node's parser class, or why it cannot be had. */
export function nativeParserClass(): NativeHttpParserClass | Error {
  if (loaded !== undefined) return loaded;
  try {
    const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser?: NativeHttpParserClass };
    if (typeof HTTPParser !== 'function') throw new Error("_http_common no longer exports HTTPParser");
    loaded = HTTPParser;
  } catch (err) {
    loaded = err instanceof Error ? err : new Error(String(err));
  }
  return loaded;
}

/** A response parser wired to `callbacks`; `Parser` defaults to Node's own. */
export function createResponseParser(callbacks: ResponseCallbacks, Parser: NativeHttpParserClass = nativeParserClass() as NativeHttpParserClass): NativeHttpParser {
  const parser = new Parser();
  parser.initialize(Parser.RESPONSE, {}, 0, 0);
  parser[Parser.kOnHeaders | 0] = callbacks.onHeaders;
  parser[Parser.kOnHeadersComplete | 0] = callbacks.onHeadersComplete;
  parser[Parser.kOnBody | 0] = callbacks.onBody;
  parser[Parser.kOnMessageComplete | 0] = callbacks.onMessageComplete;
  return parser;
}
