// Every error the proxy answers itself: a stable code (sent as x-switchyard-error), a status, and a short
// message. Never a backend address, a stack trace or a version.

export type ProxyErrorCode =
  | 'bad_request'
  | 'no_route'
  | 'no_healthy_endpoint'
  | 'upstream_connect_failed'
  | 'upstream_reset'
  | 'upstream_bad_response'
  | 'upstream_timeout'
  | 'body_too_large'
  | 'uri_too_long'
  | 'request_timeout'
  | 'headers_too_large'
  | 'shutting_down';

const STATUS: Record<ProxyErrorCode, number> = {
  bad_request: 400,
  no_route: 404,
  request_timeout: 408,
  body_too_large: 413,
  uri_too_long: 414,
  headers_too_large: 431,
  upstream_connect_failed: 502,
  upstream_reset: 502,
  upstream_bad_response: 502,
  no_healthy_endpoint: 503,
  shutting_down: 503,
  upstream_timeout: 504,
};

const MESSAGE: Record<ProxyErrorCode, string> = {
  bad_request: 'Bad request',
  no_route: 'No service matches this host and path',
  request_timeout: 'The request took too long to arrive',
  body_too_large: 'Request body too large',
  uri_too_long: 'Request URI too long',
  headers_too_large: 'Request headers too large',
  upstream_connect_failed: 'The service could not be reached',
  upstream_reset: 'The service closed the connection',
  upstream_bad_response: 'The service sent an invalid response',
  no_healthy_endpoint: 'No healthy instance is available',
  shutting_down: 'The proxy is shutting down',
  upstream_timeout: 'The service did not answer in time',
};

export function statusOf(code: ProxyErrorCode): number {
  return STATUS[code];
}

export interface ErrorBody {
  contentType: string;
  body: string;
}

/** JSON for clients that accept it, else one line of text. */
export function errorBody(code: ProxyErrorCode, accept: string | undefined, requestId?: string): ErrorBody {
  if (accept !== undefined && accept.includes('json')) {
    const error = requestId === undefined ? { code, message: MESSAGE[code] } : { code, message: MESSAGE[code], requestId };
    return { contentType: 'application/json', body: JSON.stringify({ error }) };
  }
  return { contentType: 'text/plain; charset=utf-8', body: `${STATUS[code]} ${MESSAGE[code]} (${code})\n` };
}

export type UpstreamFailure = 'connect' | 'reset' | 'timeout' | 'protocol' | 'aborted' | 'other';

/** Sorts an undici / socket error into what it means for the request. */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EADDRNOTAVAIL':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'SY_ERR_CONNECT_TIMEOUT':
      return 'connect';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'SY_ERR_HOST_LOST':
      return 'reset';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'SY_ERR_HEADERS_TIMEOUT':
    case 'SY_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_ABORT':
      return 'aborted';
  }
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') {
    return 'protocol';
  }
  if (typeof err === 'object' && err !== null && 'kind' in err && err.kind === 'upstream_bad_response') {
    return 'protocol';
  }
  return 'other';
}

export function errorCodeFor(failure: UpstreamFailure, err: unknown): ProxyErrorCode {
  switch (failure) {
    case 'connect':
      return isTimeout(err) ? 'upstream_timeout' : 'upstream_connect_failed';
    case 'reset':
      return 'upstream_reset';
    case 'timeout':
      return 'upstream_timeout';
    default:
      return 'upstream_bad_response';
  }
}

function isTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'UND_ERR_CONNECT_TIMEOUT' || err.code === 'SY_ERR_CONNECT_TIMEOUT');
}
