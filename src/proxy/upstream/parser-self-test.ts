// Start-up self-test of the lean upstream client's use of Node's internal HTTP parser: a keep-alive
// chunked response split mid-head, then a Content-Length response that closes, then garbage, then a
// parser stopped after a head (STOP_AFTER_HEAD, the client reading the body itself) and restarted. Any
// difference from what llhttp has always reported means the client could proxy wrongly on this Node.
import { createResponseParser, nativeParserClass, restartResponseParser, STOP_AFTER_HEAD, type NativeHttpParserClass } from './http-parser.js';

interface Seen {
  status: number;
  statusText: string;
  headers: string[];
  keepAlive: boolean;
  body: string;
  complete: boolean;
}

const FIRST = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nX-Trace: a b\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
const SECOND = 'HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc';
const EXPECTED: Seen[] = [
  { status: 200, statusText: 'OK', headers: ['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked', 'X-Trace', 'a b'], keepAlive: true, body: 'hello world', complete: true },
  { status: 404, statusText: 'Not Found', headers: ['Content-Length', '3', 'Connection', 'close'], keepAlive: false, body: 'abc', complete: true },
];

/**
 * Null when the parser behaves as the upstream client expects, else what went wrong.
 * @example selfTestNativeParser() // null on Node 20, 22 and 24
 */
export function selfTestNativeParser(load: () => NativeHttpParserClass | Error = nativeParserClass): string | null {
  try {
    const Parser = load();
    if (Parser instanceof Error) return `Node's HTTP parser (_http_common) is not available: ${Parser.message}`;
    const seen: Seen[] = [];
    let pending: string[] = [];
    const parser = createResponseParser(
      {
        onHeaders: (headers) => void pending.push(...headers),
        onHeadersComplete: (_major, _minor, headers, _method, _url, status, statusText, _upgrade, keepAlive) => {
          seen.push({ status, statusText, headers: headers ?? pending, keepAlive, body: '', complete: false });
          pending = [];
          return 0;
        },
        onBody: (chunk) => void (seen.at(-1)!.body += chunk.toString('latin1')),
        onMessageComplete: () => void (seen.at(-1)!.complete = true),
      },
      Parser,
    );
    const input = Buffer.from(FIRST + SECOND, 'latin1');
    // Split inside the first head, so the parser must carry state across reads.
    for (const part of [input.subarray(0, 30), input.subarray(30)]) {
      const result = parser.execute(part);
      if (result instanceof Error) return `Node's HTTP parser rejected a valid response: ${result.message}`;
    }
    const actual = JSON.stringify(seen);
    if (actual !== JSON.stringify(EXPECTED)) return `Node's HTTP parser reported ${actual}, expected ${JSON.stringify(EXPECTED)}`;
    parser.close();
    const strict = createResponseParser({ onHeaders: () => {}, onHeadersComplete: () => 0, onBody: () => {}, onMessageComplete: () => {} }, Parser);
    const garbage = strict.execute(Buffer.from('HELLO\r\n\r\n'));
    strict.close();
    if (!(garbage instanceof Error)) return "Node's HTTP parser accepted a response that is not HTTP";
    return checkStopAfterHead(Parser);
  } catch (err) {
    return `Node's HTTP parser failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The parser stops right after a head when told to, and parses the next response once restarted. */
function checkStopAfterHead(Parser: NativeHttpParserClass): string | null {
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
  let answer = STOP_AFTER_HEAD;
  const statuses: number[] = [];
  const chunks: string[] = [];
  const body = () => chunks.join('');
  const parser = createResponseParser(
    {
      onHeaders: () => {},
      onHeadersComplete: (_major, _minor, _headers, _method, _url, status) => {
        statuses.push(status);
        return answer;
      },
      onBody: (chunk) => void chunks.push(chunk.toString('latin1')),
      onMessageComplete: () => {},
    },
    Parser,
  );
  const stoppedAt = parser.execute(Buffer.from(`${head}hello`, 'latin1'));
  if (stoppedAt !== head.length || body() !== '') return `Node's HTTP parser did not stop after the head: it read ${String(stoppedAt)} bytes and body '${body()}'`;
  restartResponseParser(parser, Parser);
  answer = 0;
  const next = parser.execute(Buffer.from(SECOND, 'latin1'));
  parser.close();
  if (next instanceof Error || body() !== 'abc' || statuses.join() !== '200,404') return `Node's HTTP parser did not parse a response after a restart: ${next instanceof Error ? next.message : `statuses ${statuses.join()}, body '${body()}'`}`;
  return null;
}
