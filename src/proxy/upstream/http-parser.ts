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

/**
 * onHeadersComplete's answer that stops the parser after the head (llhttp's "upgrade, no body"): execute()
 * then returns how many bytes the head took, and the caller reads the body itself. Node's own client
 * answers it for upgrades. The parser must be restarted (restartResponseParser) before the next response.
 */
export const STOP_AFTER_HEAD = 2;

/** What a response parser reports, in the order it happens. */
export interface ResponseCallbacks {
  /** Header lines that arrived before the head was complete (long heads come in parts). */
  onHeaders: (headers: string[]) => void;
  /** Return 1 to say the response has no body (a HEAD request's answer), STOP_AFTER_HEAD to read it yourself. */
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
  restartResponseParser(parser, Parser);
  parser[Parser.kOnHeaders | 0] = callbacks.onHeaders;
  parser[Parser.kOnHeadersComplete | 0] = callbacks.onHeadersComplete;
  parser[Parser.kOnBody | 0] = callbacks.onBody;
  parser[Parser.kOnMessageComplete | 0] = callbacks.onMessageComplete;
  return parser;
}

/** Ready for a new response from the start (after STOP_AFTER_HEAD); the callbacks stay. */
export function restartResponseParser(parser: NativeHttpParser, Parser: NativeHttpParserClass = nativeParserClass() as NativeHttpParserClass): void {
  // Strict (no lenient flags): a head with both Content-Length and Transfer-Encoding, or two lengths, is an error.
  parser.initialize(Parser.RESPONSE, {}, 0, 0);
}
