// The proxy's TLS state, rebuilt from each snapshot the control plane hands over: secure contexts per
// TLS listener, pending ACME challenges, and handshake failure counts. Handshakes read it; nothing here
// does I/O.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { EdgeServer, EdgeTlsSource } from './edge-server.js';
import { ListenerContexts, type TlsMinVersion } from './tls-contexts.js';
import { EMPTY_TLS_SNAPSHOT, type SnapshotCertificate, type TlsSnapshot } from './tls-snapshot.js';

interface TlsListener {
  minVersion: TlsMinVersion;
  server: EdgeServer | undefined;
  contexts: ListenerContexts | undefined;
  defaultCertificate: SnapshotCertificate | undefined;
  handshakeFailures: number;
}

export class EdgeTls {
  private snapshot: TlsSnapshot = EMPTY_TLS_SNAPSHOT;
  private readonly listeners = new Map<string, TlsListener>();
  private alpnContexts = new Map<string, SecureContext>();
  private anyHttp01 = false;

  /** Registers a TLS listener; returns what its handshakes read. */
  attach(address: string, minVersion: TlsMinVersion): EdgeTlsSource {
    const listener: TlsListener = { minVersion, server: undefined, contexts: undefined, defaultCertificate: undefined, handshakeFailures: 0 };
    this.listeners.set(address, listener);
    listener.contexts = new ListenerContexts(this.snapshot.listeners[address] ?? [], minVersion);
    listener.defaultCertificate = listener.contexts.defaultCertificate?.source;
    return {
      contexts: () => listener.contexts,
      alpnChallenge: (servername) => this.alpnContexts.get(servername.toLowerCase()),
      alpnChallengesPending: () => this.alpnContexts.size > 0,
      onHandshakeFailure: () => listener.handshakeFailures++,
    };
  }

  /** The server whose default certificate follows the snapshots. */
  bind(address: string, server: EdgeServer): void {
    const listener = this.listeners.get(address);
    if (listener) listener.server = server;
  }

  /**
   * Makes a snapshot current. Certificates are checked before anything changes: a snapshot the TLS
   * library refuses throws, and the previous one keeps serving.
   */
  apply(snapshot: TlsSnapshot): void {
    const built = new Map<string, ListenerContexts>();
    for (const [address, listener] of this.listeners) {
      built.set(address, new ListenerContexts(snapshot.listeners[address] ?? [], listener.minVersion));
    }
    const alpn = new Map(Object.entries(snapshot.alpn01).map(([name, c]) => [name.toLowerCase(), createSecureContext({ cert: c.certPem, key: c.keyPem })]));
    this.snapshot = snapshot;
    this.alpnContexts = alpn;
    this.anyHttp01 = Object.keys(snapshot.http01).length > 0;
    for (const [address, listener] of this.listeners) this.install(listener, built.get(address)!);
  }

  /** HTTP-01: the key authorization for a token, if a challenge is pending. */
  http01(token: string): string | undefined {
    return this.snapshot.http01[token];
  }

  /** True while any HTTP-01 challenge is pending (the request path checks this first). */
  get hasHttp01(): boolean {
    return this.anyHttp01;
  }

  /** Failed TLS handshakes per listener address since start. */
  handshakeFailures(): Record<string, number> {
    return Object.fromEntries([...this.listeners].map(([address, l]) => [address, l.handshakeFailures]));
  }

  private install(listener: TlsListener, contexts: ListenerContexts): void {
    listener.contexts = contexts;
    const next = contexts.defaultCertificate?.source;
    if (next !== undefined && next.certPem !== listener.defaultCertificate?.certPem) {
      // Clients without SNI get the server's own context: replace it for new handshakes only.
      listener.server?.setDefaultCertificate(next, listener.minVersion);
    }
    listener.defaultCertificate = next;
  }
}
