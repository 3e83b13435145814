// ACME account keys and issued certificates in the state folder, owner-only (folder 0700, files 0600),
// written to a temporary file and renamed so a crash never leaves half a key.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class AcmeStorage {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'certificates', 'acme');
  }

  accountKey(directoryUrl: string, email: string): string | undefined {
    return this.read(this.accountFile(directoryUrl, email));
  }

  saveAccountKey(directoryUrl: string, email: string, keyPem: string): void {
    this.write(this.accountFile(directoryUrl, email), keyPem);
  }

  certificate(id: string): { certPem: string; keyPem: string } | undefined {
    const certPem = this.read(join(this.certDir(id), 'cert.pem'));
    const keyPem = this.read(join(this.certDir(id), 'key.pem'));
    return certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
  }

  saveCertificate(id: string, certPem: string, keyPem: string): void {
    // Key first: a reader that sees the new certificate always finds its key (checked as a pair anyway).
    this.write(join(this.certDir(id), 'key.pem'), keyPem);
    this.write(join(this.certDir(id), 'cert.pem'), certPem);
  }

  private accountFile(directoryUrl: string, email: string): string {
    const tag = createHash('sha256').update(`${directoryUrl} ${email}`).digest('hex').slice(0, 16);
    return join(this.dir, `account-${tag}.key`);
  }

  private certDir(id: string): string {
    return join(this.dir, id.replace(/[^a-zA-Z0-9._-]/g, '_'));
  }

  private read(path: string): string | undefined {
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  private write(path: string, text: string): void {
    const dir = join(path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, text, { mode: 0o600 });
    renameSync(temp, path);
  }
}
