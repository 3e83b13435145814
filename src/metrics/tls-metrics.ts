// TLS figures for /metrics, read at scrape time: days until each certificate expires, and failed
// handshakes per TLS listener.
import { Gauge, type Registry } from 'prom-client';

export interface TlsFigures {
  certificates(): Iterable<{ id: string; listener: string; source: string; daysToExpiry: number | null }>;
  handshakeFailures(): Record<string, number>;
}

export function registerTlsMetrics(registry: Registry, figures: TlsFigures): void {
  new Gauge({
    name: 'switchyard_certificate_expiry_days',
    help: 'Days until the certificate expires (negative once expired)',
    labelNames: ['certificate', 'listener', 'source'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of figures.certificates()) {
        if (c.daysToExpiry !== null) this.set({ certificate: c.id, listener: c.listener, source: c.source }, c.daysToExpiry);
      }
    },
  });
  // A counter in meaning; a gauge here because its value is read from the data plane, not incremented.
  new Gauge({
    name: 'switchyard_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, per listener, since start',
    labelNames: ['listener'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [listener, value] of Object.entries(figures.handshakeFailures())) this.set({ listener }, value);
    },
  });
}
