// Bearer-token check for the admin API: constant-time comparison, no cookies (so no CSRF).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export class TokenAuth {
  private readonly digest: Buffer | null;

  /** A null token means the API is open (only allowed on loopback, which config enforces). */
  constructor(token: string | null) {
    this.digest = token === null ? null : sha256(token);
  }

  get required(): boolean {
    return this.digest !== null;
  }

  allows(req: IncomingMessage): boolean {
    if (this.digest === null) return true;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) return false;
    // Hashing first makes the comparison constant-time whatever the lengths.
    return timingSafeEqual(sha256(match[1]!.trim()), this.digest);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
