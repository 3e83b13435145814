// Errors of the upstream client, with the codes the proxy's error classification knows.

export type UpstreamErrorKind = 'upstream_bad_response' | 'upstream_connect_timeout' | 'upstream_timeout' | 'upstream_reset' | 'aborted';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
