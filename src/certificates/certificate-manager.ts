// The control plane's side of TLS: certificates from files (polled for replacement) and from ACME
// (ordered and renewed), combined into TlsSnapshots for the data plane, and what `status` shows.
// Today the daemon hands snapshots to its proxy; a controller process can send the same data to workers.
import type { Logger } from 'pino';
import type { Config, ListenerConfig } from '../config/index.js';
import type { SnapshotCertificate, TlsSnapshot } from '../proxy/edge/tls-snapshot.js';
import { AcmeIssuer, type ChallengeSink, type RenewalResult } from './acme-issuer.js';
import { AcmeStorage } from './acme-storage.js';
import { FileCertificate } from './file-certificates.js';
import type { CheckedCertificate } from './certificate-check.js';

const POLL_INTERVAL_MS = 2_000;
const DAY_MS = 86_400_000;

/** One certificate as `status`, the dashboard and /metrics show it. */
export interface CertificateView {
  id: string;
  listener: string;
  source: 'file' | 'acme';
  names: string[];
  issuer: string | null;
  notAfter: string | null;
  daysToExpiry: number | null;
  /** The last load (file) or order (ACME), and a refused replacement or failed renewal with its error. */
  lastRenewal: RenewalResult | null;
  nextRenewal: string | null;
}

interface ListenerCertificates {
  address: string;
  files: FileCertificate[];
  acme: AcmeIssuer[];
}

export class CertificateManager implements ChallengeSink {
  private readonly listeners: ListenerCertificates[];
  private readonly http01: Record<string, string> = {};
  private readonly alpn01: Record<string, { certPem: string; keyPem: string }> = {};
  private timer: NodeJS.Timeout | null = null;
  private nextExpiry = Infinity;

  /** Reads and checks every certificate file now: a bad one throws CertificateError (with the files named). */
  constructor(
    config: Config,
    private readonly publish: (snapshot: TlsSnapshot) => void,
    private readonly log: Logger,
  ) {
    const storage = new AcmeStorage(config.state);
    this.listeners = config.proxy.listen
      .filter((l) => l.tls !== undefined)
      .map((listener) => ({
        address: listener.address,
        files: listener.tls!.certificates.map((files) => new FileCertificate(files)),
        acme: this.issuersFor(listener, config, storage),
      }));
  }

  get hasTls(): boolean {
    return this.listeners.length > 0;
  }

  /** Publishes the first snapshot and starts watching files and ordering ACME certificates. */
  start(): void {
    this.republish();
    if (!this.hasTls) return;
    for (const issuer of this.acmeIssuers()) issuer.start();
    this.timer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const issuer of this.acmeIssuers()) issuer.stop();
  }

  snapshot(): TlsSnapshot {
    const listeners: Record<string, SnapshotCertificate[]> = {};
    const now = Date.now();
    this.nextExpiry = Infinity;
    for (const l of this.listeners) {
      const certs = [...l.files.map((f) => f.state.current), ...l.acme.flatMap((a) => (a.current ? [a.current] : []))];
      for (const c of certs) if (c.notAfter > now) this.nextExpiry = Math.min(this.nextExpiry, c.notAfter);
      listeners[l.address] = certs.map(toSnapshot);
    }
    return { listeners, http01: { ...this.http01 }, alpn01: { ...this.alpn01 } };
  }

  views(now = Date.now()): CertificateView[] {
    const views: CertificateView[] = [];
    for (const l of this.listeners) {
      for (const f of l.files) {
        const { current, loadedAt, lastError } = f.state;
        const lastRenewal = lastError ? { at: lastError.at, ok: false, error: lastError.message } : { at: loadedAt, ok: true };
        views.push({ ...describe(current, now), id: current.id, listener: l.address, source: 'file', lastRenewal, nextRenewal: null });
      }
      for (const a of l.acme) {
        const known = a.current ? describe(a.current, now) : { names: [...a.names], issuer: null, notAfter: null, daysToExpiry: null };
        views.push({ ...known, id: a.id, listener: l.address, source: 'acme', lastRenewal: a.lastRenewal, nextRenewal: a.nextAttemptAt ? new Date(a.nextAttemptAt).toISOString() : null });
      }
    }
    return views;
  }

  /** The ACME issuer of a certificate id, e.g. to renew it now. */
  acmeIssuer(id: string): AcmeIssuer | undefined {
    return this.acmeIssuers().find((a) => a.id === id);
  }

  addHttp01(token: string, keyAuthorization: string): void {
    this.http01[token] = keyAuthorization;
    this.republish();
  }

  removeHttp01(token: string): void {
    delete this.http01[token];
    this.republish();
  }

  addAlpn01(name: string, certPem: string, keyPem: string): void {
    this.alpn01[name] = { certPem, keyPem };
    this.republish();
  }

  removeAlpn01(name: string): void {
    delete this.alpn01[name];
    this.republish();
  }

  private poll(): void {
    let changed = Date.now() >= this.nextExpiry;
    for (const l of this.listeners) {
      for (const file of l.files) {
        const taken = file.poll((error) => this.log.error({ code: error.code, listener: l.address }, `certificate replacement refused, the previous one keeps serving: ${error.message}`));
        if (taken) this.log.info({ listener: l.address, certificate: file.files.cert }, 'certificate reloaded from file');
        changed ||= taken;
      }
    }
    if (changed) this.republish();
  }

  private republish(): void {
    try {
      this.publish(this.snapshot());
    } catch (err) {
      this.log.error({ err: String(err) }, 'the proxy refused the new certificates; the previous ones keep serving');
    }
  }

  private issuersFor(listener: ListenerConfig, config: Config, storage: AcmeStorage): AcmeIssuer[] {
    const acmeConfig = listener.tls?.acme;
    if (acmeConfig === undefined) return [];
    const groups: { id: string; names: string[] }[] = acmeConfig.hosts
      ? [{ id: `acme:${acmeConfig.hosts[0]!}`, names: acmeConfig.hosts }]
      : Object.entries(config.services).flatMap(([name, service]) => {
          // Wildcards need DNS-01, which switchyard does not do: those names need certificate files.
          const names = (service.match.hosts ?? []).filter((h) => !h.startsWith('*.'));
          return names.length > 0 ? [{ id: `acme:${name}`, names }] : [];
        });
    return groups.map(
      (g) => new AcmeIssuer(g.id, g.names, acmeConfig, storage, this, () => this.republish(), this.log.child({ listener: listener.address })),
    );
  }

  private acmeIssuers(): AcmeIssuer[] {
    return this.listeners.flatMap((l) => l.acme);
  }
}

function toSnapshot(c: CheckedCertificate): SnapshotCertificate {
  const { id, names, certPem, keyPem, notBefore, notAfter, ocspBase64 } = c;
  return ocspBase64 === undefined ? { id, names, certPem, keyPem, notBefore, notAfter } : { id, names, certPem, keyPem, notBefore, notAfter, ocspBase64 };
}

function describe(c: CheckedCertificate, now: number) {
  return {
    names: c.names,
    issuer: c.issuer,
    notAfter: new Date(c.notAfter).toISOString(),
    daysToExpiry: Math.floor(((c.notAfter - now) / DAY_MS) * 100) / 100,
  };
}
