// Typed access to Node's own HTTP/1.1 parser (llhttp, the one node:http uses), for the upstream client.
// It is exported by the long-standing `_http_common` module; using it gives strict, native parsing of
// app responses without a second parser implementation.
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

interface NativeHttpParserClass {
  new (): NativeHttpParser;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const require = createRequire(import.meta.url);
const { HTTPParser } = require('_http_common') as { HTTPParser: NativeHttpParserClass };

export const ResponseParser = HTTPParser;

export const K_ON_HEADERS = HTTPParser.kOnHeaders | 0;
export const K_ON_HEADERS_COMPLETE = HTTPParser.kOnHeadersComplete | 0;
export const K_ON_BODY = HTTPParser.kOnBody | 0;
export const K_ON_MESSAGE_COMPLETE = HTTPParser.kOnMessageComplete | 0;

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
