// `switchyard status` as text: the certificates each TLS listener serves, when they expire, and how
// their last load or renewal went.
import type { CertificateView } from '../api-types.js';
import type { Palette } from './style.js';
import { table } from './table.js';

export function certificateStatus(p: Palette, certificates: readonly CertificateView[]): string {
  const rows = certificates.map((c) => {
    const expiry = c.notAfter === null ? 'not issued yet' : `${c.notAfter.slice(0, 16).replace('T', ' ')} (${c.daysToExpiry?.toFixed(1)} d)`;
    const last = c.lastRenewal === null ? '-' : c.lastRenewal.ok ? p.green('ok') : p.red(`failed: ${c.lastRenewal.error ?? ''}`);
    return [c.names.join(', '), c.source, c.issuer ?? '-', expiry, last, c.listener];
  });
  return `${p.bold('certificates')}\n\n${table(p, ['names', 'source', 'issuer', 'not after', 'last renewal', 'listener'], rows, 2)}`;
}
