// Header rewriting in both directions: drop hop-by-hop headers (and the names Connection lists), add
// X-Forwarded-*, keep or generate X-Request-Id, drop the release header a client sent (only the proxy
// sets it), and refuse ambiguous requests (request smuggling).
import type { Socket } from 'node:net';
import { nextRequestId } from './request-id.js';

export interface UpstreamRequestHead {
  headers: string[];
  requestId: string;
  /** Read here so the hot path never builds Node's req.headers object. */
  host: string | undefined;
  /** The Cookie header (several joined with "; "), for sticky sessions and rules. */
  cookie: string | undefined;
  contentLength: string | undefined;
  chunked: boolean;
  /** Why the request must be refused with 400, or null. */
  badRequest: string | null;
}

const MAX_REQUEST_ID_LENGTH = 200;

/**
 * Lengths of the request header names the scan acts on (te, host, expect, cookie, trailer, upgrade,
 * connection, keep-alive, x-request-id, content-length, x-forwarded-*, transfer-encoding): a name of
 * another length (and not proxy-* or a pseudo-header) passes without being lowercased.
 */
const ACTED_ON_LENGTH = new Uint8Array(32);
for (const n of [2, 4, 6, 7, 10, 12, 14, 15, 16, 17]) ACTED_ON_LENGTH[n] = 1;
const REQUEST_ID = /^[\x21-\x7e]+$/;

/** True for headers that describe one connection and must not cross the proxy. */
export function isHopByHop(lowerName: string): boolean {
  switch (lowerName) {
    case 'connection':
    case 'keep-alive':
    case 'te':
    case 'trailer':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
    default:
      return lowerName.startsWith('proxy-');
  }
}

/** Extra header names a Connection header marks as hop-by-hop ("close" and "keep-alive" are not names). */
function connectionListed(value: string): string[] | null {
  if (value.length <= 10) {
    const lower = value.toLowerCase();
    if (lower === 'keep-alive' || lower === 'close') return null;
  }
  let listed: string[] | null = null;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    (listed ??= []).push(name);
  }
  return listed;
}

function listedByConnection(raw: readonly string[]): string[] | null {
  let listed: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      const more = connectionListed(raw[i + 1]!);
      if (more) (listed ??= []).push(...more);
    }
  }
  return listed;
}

/**
 * The headers to send upstream for a request's raw headers. `upgrade` keeps Connection/Upgrade for a
 * WebSocket handshake (the tunnel needs them). `releaseHeader` (lowercase) is dropped: the exchange adds
 * its own once the release is chosen, so an app can trust it.
 */
export function upstreamRequestHead(
  raw: readonly string[],
  clientIp: string,
  proto: string,
  upgrade: boolean,
  releaseHeader = '',
): UpstreamRequestHead {
  const listed = listedByConnection(raw);
  const headers: string[] = [];
  let host: string | null = null;
  let cookie: string | undefined;
  let hostCount = 0;
  let contentLength: string | undefined;
  let hasTransferEncoding = false;
  let forwardedFor: string | null = null;
  let requestId: string | null = null;
  let authority: string | null = null;
  let badPseudoHeader: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const first = name.charCodeAt(0) | 0x20;
    if (
      listed === null &&
      ACTED_ON_LENGTH[name.length] !== 1 &&
      first !== 0x70 /* p */ &&
      first !== 0x3a /* : */ &&
      name.length !== releaseHeader.length
    ) {
      headers.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    switch (lower) {
      case 'cookie':
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        headers.push(name, value);
        continue;
      case 'host':
        hostCount++;
        host = value;
        headers.push(name, value);
        continue;
      case 'content-length':
        contentLength = value;
        headers.push(name, value);
        continue;
      case 'transfer-encoding':
        hasTransferEncoding = true;
        continue;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === null ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
      case 'expect':
        continue;
      case 'x-request-id':
        if (requestId === null && value.length <= MAX_REQUEST_ID_LENGTH && REQUEST_ID.test(value)) requestId = value;
        continue;
      case 'connection':
      case 'upgrade':
        if (upgrade) headers.push(name, value);
        continue;
      // HTTP/2 pseudo-headers: :authority becomes Host upstream; the others are in the request line.
      case ':authority':
        authority = value;
        continue;
      case ':method':
      case ':path':
      case ':scheme':
        continue;
    }
    if (lower.charCodeAt(0) === 58 /* : */) {
      badPseudoHeader = lower;
      continue;
    }
    if (isHopByHop(lower) || (listed !== null && listed.includes(lower)) || lower === releaseHeader) continue;
    headers.push(name, value);
  }
  if (authority !== null && hostCount === 0) {
    host = authority;
    hostCount = 1;
    headers.push('host', authority);
  }
  requestId ??= nextRequestId();
  headers.push(
    'x-forwarded-for',
    forwardedFor === null ? clientIp : `${forwardedFor}, ${clientIp}`,
    'x-forwarded-proto',
    proto,
    'x-request-id',
    requestId,
  );
  if (host !== null) headers.push('x-forwarded-host', host);
  let badRequest: string | null = null;
  if (hostCount > 1) badRequest = 'more than one Host header';
  else if (authority !== null && host !== null && authority.toLowerCase() !== host.toLowerCase()) badRequest = ':authority and Host differ';
  else if (badPseudoHeader !== null) badRequest = `unknown pseudo-header ${badPseudoHeader}`;
  else if (contentLength !== undefined && hasTransferEncoding) badRequest = 'both Content-Length and Transfer-Encoding';
  return { headers, requestId, badRequest, host: host ?? undefined, cookie, contentLength, chunked: hasTransferEncoding };
}

/** X-Forwarded-Proto from the connection the request really came on (not from what the client claims). */
export function forwardedProto(socket: Socket): 'https' | 'http' {
  return (socket as Socket & { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
}

/**
 * The headers to send to the client for an upstream response's raw headers (latin1 keeps the bytes as
 * they came); the request id is echoed when the app did not set one.
 */
export function clientResponseHeaders(raw: readonly string[], dropServer: boolean, requestId: string): string[] {
  const headers: string[] = [];
  let listed: string[] | null = null;
  let sawRequestId = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // Only names as long as one we act on need lowercasing (most response headers are not).
    switch (name.length) {
      case 2:
      case 6:
      case 7:
      case 10:
      case 12:
      case 17:
        break;
      default:
        if (name.length < 6 || (name.charCodeAt(0) | 0x20) !== 0x70 /* p */) {
          headers.push(name, value);
          continue;
        }
    }
    const lower = name.toLowerCase();
    if (isHopByHop(lower)) {
      if (lower === 'connection') {
        const more = connectionListed(value);
        if (more) (listed ??= []).push(...more);
      }
      continue;
    }
    if (dropServer && lower === 'server') continue;
    if (lower === 'x-request-id') sawRequestId = true;
    headers.push(name, value);
  }
  const result = listed === null ? headers : removeNames(headers, listed);
  if (!sawRequestId && requestId !== '') result.push('x-request-id', requestId);
  return result;
}

function removeNames(headers: string[], lowerNames: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!lowerNames.includes(headers[i]!.toLowerCase())) kept.push(headers[i]!, headers[i + 1]!);
  }
  return kept;
}
