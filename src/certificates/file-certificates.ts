// Certificates from files: read and checked at start (a bad pair stops the start with its error), then
// polled so that a replaced file serves new handshakes within seconds. A replacement that fails the
// checks is refused with its error and the previous certificate keeps serving.
import { readFileSync, statSync } from 'node:fs';
import { CertificateError, checkCertificate, type CheckedCertificate } from './certificate-check.js';

export interface CertificateFiles {
  cert: string;
  key: string;
  ocsp?: string | undefined;
}

export interface FileCertificateState {
  files: CertificateFiles;
  current: CheckedCertificate;
  loadedAt: number;
  /** The last replacement that was refused, until a good one arrives. */
  lastError: { at: number; code: string; message: string } | null;
}

export class FileCertificate {
  private stamp: string;
  readonly state: FileCertificateState;

  /** Reads and checks the files now; throws CertificateError when they cannot serve. */
  constructor(readonly files: CertificateFiles) {
    this.stamp = stampOf(files);
    this.state = { files, current: load(files), loadedAt: Date.now(), lastError: null };
  }

  /** Re-reads the files if they changed; true when a new certificate was taken. */
  poll(onRefused: (error: CertificateError) => void): boolean {
    const stamp = stampOf(this.files);
    if (stamp === this.stamp) return false;
    this.stamp = stamp;
    try {
      this.state.current = load(this.files);
      this.state.loadedAt = Date.now();
      this.state.lastError = null;
      return true;
    } catch (err) {
      const error = err instanceof CertificateError ? err : new CertificateError('SY_ERR_CERT_UNREADABLE', String(err));
      this.state.lastError = { at: Date.now(), code: error.code, message: error.message };
      onRefused(error);
      return false;
    }
  }
}

function load(files: CertificateFiles): CheckedCertificate {
  const what = `${files.cert} + ${files.key}`;
  const certPem = read(files.cert);
  const keyPem = read(files.key);
  const checked = checkCertificate(files.cert, certPem, keyPem, what);
  if (files.ocsp !== undefined) {
    try {
      checked.ocspBase64 = readFileSync(files.ocsp).toString('base64');
    } catch {
      // Stapling is optional: a missing response only means clients ask the CA themselves.
    }
  }
  return checked;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CertificateError('SY_ERR_CERT_UNREADABLE', `cannot read ${path}: ${code}`);
  }
}

/** Size, modification time and inode of each file: an atomic rename or an in-place write changes it. */
function stampOf(files: CertificateFiles): string {
  return [files.cert, files.key, files.ocsp]
    .map((path) => {
      if (path === undefined) return '';
      try {
        const s = statSync(path);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
