// TLS-ALPN-01 (RFC 8737) without disturbing anyone else: the challenge certificate must go only to a
// handshake that offers the `acme-tls/1` protocol. Node chooses the certificate (SNICallback) before it
// sees the client's ALPN list, so while a challenge is pending a TLS listener looks at each new
// connection's ClientHello first and hands the validator's to a separate TLS server that knows only the
// challenge certificates. Every other client gets the listener's real certificate, even mid-challenge.
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';

export const ACME_TLS_ALPN = 'acme-tls/1';

/**
 * `acme-tls/1` as it appears in a ClientHello's ALPN extension: its one-byte length, then the name.
 * Nothing else in a ClientHello can carry these bytes (a server name cannot hold `/`), so a byte search
 * of the hello's record tells the validator apart without parsing the whole message.
 */
const ALPN_ENTRY = Buffer.concat([Buffer.from([ACME_TLS_ALPN.length]), Buffer.from(ACME_TLS_ALPN, 'latin1')]);
const RECORD_HEADER_BYTES = 5;
/** A ClientHello record is at most 16 KiB plus its header; stop looking after that. */
const MAX_HELLO_BYTES = 16 * 1024 + RECORD_HEADER_BYTES;
/** A client that sends no complete ClientHello in this time is handed on as it is. */
const HELLO_WAIT_MS = 5_000;

/** The challenge certificate for a server name, while one is pending. */
export type ChallengeLookup = (servername: string) => SecureContext | undefined;

/** Answers validators' `acme-tls/1` handshakes with the pending challenge certificate, then closes. */
export function createChallengeServer(challengeFor: ChallengeLookup): TlsServer {
  const server = createTlsServer({
    ALPNProtocols: [ACME_TLS_ALPN],
    SNICallback: (servername, callback) => {
      const context = challengeFor(servername);
      callback(context === undefined ? new Error(`no TLS-ALPN-01 challenge pending for ${servername}`) : null, context);
    },
  });
  // The validator only needs the handshake; a failed one is its problem, never the listener's.
  server.on('secureConnection', (socket: TLSSocket) => socket.end());
  server.on('tlsClientError', () => {});
  return server;
}

/**
 * Reads a new connection's first TLS record without consuming it (the bytes are put back for whoever
 * takes the connection) and says whether it offers `acme-tls/1`.
 */
export function offersAcmeTls(socket: Socket, decide: (isValidator: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const finish = (isValidator: boolean) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    if (seen.length > 0) socket.unshift(seen);
    decide(isValidator);
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const wanted = seen.length >= RECORD_HEADER_BYTES ? RECORD_HEADER_BYTES + seen.readUInt16BE(3) : MAX_HELLO_BYTES;
    if (seen.includes(ALPN_ENTRY)) finish(true);
    else if (seen.length >= Math.min(wanted, MAX_HELLO_BYTES)) finish(false);
  };
  const onClose = () => finish(false);
  const timer = setTimeout(() => finish(false), HELLO_WAIT_MS);
  timer.unref();
  socket.on('data', onData);
  socket.once('close', onClose);
}
