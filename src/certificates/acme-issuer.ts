// Obtains and renews one certificate (a set of names) from an ACME directory with acme-client: by
// HTTP-01 or TLS-ALPN-01, renewed at a share of its lifetime (with jitter), retried with backoff on
// failure while the current certificate keeps serving. Challenges are handed to the data plane as data.
import { Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import * as acme from 'acme-client';
import type { Logger } from 'pino';
import type { AcmeConfig } from '../config/index.js';
import { checkCertificate, type CheckedCertificate } from './certificate-check.js';
import type { AcmeStorage } from './acme-storage.js';

const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 3_600_000;
/** Jitter: up to this share of the lifetime is added to the renewal time, so many hosts do not renew at once. */
const JITTER_SHARE = 0.05;
/** setTimeout's limit; longer waits are taken in steps. */
const MAX_TIMER_MS = 2_147_483_647;

export interface ChallengeSink {
  addHttp01(token: string, keyAuthorization: string): void;
  removeHttp01(token: string): void;
  addAlpn01(name: string, certPem: string, keyPem: string): void;
  removeAlpn01(name: string): void;
}

export interface RenewalResult {
  at: number;
  ok: boolean;
  error?: string;
}

export class AcmeIssuer {
  current: CheckedCertificate | null = null;
  lastRenewal: RenewalResult | null = null;
  nextAttemptAt = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(
    readonly id: string,
    readonly names: readonly string[],
    private readonly config: AcmeConfig,
    private readonly storage: AcmeStorage,
    private readonly challenges: ChallengeSink,
    private readonly onCertificate: (cert: CheckedCertificate) => void,
    private readonly log: Logger,
  ) {
    const stored = storage.certificate(id);
    if (stored !== undefined) {
      try {
        this.current = checkCertificate(id, stored.certPem, stored.keyPem, `stored ACME certificate ${id}`);
      } catch (err) {
        log.warn({ certificate: id, err: String(err) }, 'stored ACME certificate is not usable; ordering a new one');
      }
    }
  }

  start(): void {
    this.schedule(this.renewalDue());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Orders now (tests and `switchyard` operators); resolves when the attempt ended. */
  renewNow(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.running ??= this.order().finally(() => (this.running = null));
    return this.running;
  }

  /** When the current certificate should be renewed: a share of its lifetime, plus jitter. */
  private renewalDue(): number {
    const cert = this.current;
    if (cert === null || !this.covers(cert)) return Date.now();
    const lifetime = cert.notAfter - cert.notBefore;
    return cert.notBefore + lifetime * this.config.renewAt + Math.random() * lifetime * JITTER_SHARE;
  }

  private covers(cert: CheckedCertificate): boolean {
    return this.names.every((name) => cert.names.includes(name));
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    this.nextAttemptAt = at;
    const wait = Math.max(0, at - Date.now());
    this.timer = setTimeout(() => (wait > MAX_TIMER_MS ? this.schedule(at) : void this.renewNow()), Math.min(wait, MAX_TIMER_MS));
    this.timer.unref();
  }

  private async order(): Promise<void> {
    try {
      const cert = await this.obtain();
      this.current = cert;
      this.failures = 0;
      this.lastRenewal = { at: Date.now(), ok: true };
      this.log.info({ certificate: this.id, names: this.names, notAfter: new Date(cert.notAfter).toISOString() }, 'ACME certificate issued');
      this.onCertificate(cert);
      this.schedule(this.renewalDue());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.failures++;
      this.lastRenewal = { at: Date.now(), ok: false, error: message };
      const retryIn = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.failures - 1));
      this.log.error(
        { certificate: this.id, names: this.names, err: message, retryInMs: retryIn },
        this.current ? 'ACME renewal failed; the current certificate keeps serving' : 'ACME order failed',
      );
      this.schedule(Date.now() + retryIn);
    }
  }

  private async obtain(): Promise<CheckedCertificate> {
    if (this.config.directoryCa !== undefined) {
      acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(this.config.directoryCa) });
    }
    const client = new acme.Client({
      directoryUrl: this.config.directory,
      accountKey: await this.accountKey(),
      externalAccountBinding: this.config.eab,
    });
    const [keyBuffer, csr] = await acme.crypto.createCsr({ commonName: this.names[0]!, altNames: [...this.names] }, await acme.crypto.createPrivateEcdsaKey());
    const method = this.config.challenge;
    const certPem = await client.auto({
      csr,
      email: this.config.email,
      termsOfServiceAgreed: true,
      challengePriority: [method],
      // The ACME server checks reachability itself; a local check would need the public DNS.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type === 'http-01') this.challenges.addHttp01(challenge.token, keyAuthorization);
        else {
          const [key, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
          this.challenges.addAlpn01(authz.identifier.value, cert.toString(), key.toString());
        }
      },
      challengeRemoveFn: (authz, challenge) => {
        if (challenge.type === 'http-01') this.challenges.removeHttp01(challenge.token);
        else this.challenges.removeAlpn01(authz.identifier.value);
        return Promise.resolve();
      },
    });
    const keyPem = keyBuffer.toString();
    const checked = checkCertificate(this.id, certPem, keyPem, `ACME certificate for ${this.names.join(', ')}`);
    this.storage.saveCertificate(this.id, certPem, keyPem);
    return checked;
  }

  private async accountKey(): Promise<string> {
    const { directory, email } = this.config;
    const stored = this.storage.accountKey(directory, email);
    if (stored !== undefined) return stored;
    const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
    this.storage.saveAccountKey(directory, email, key);
    return key;
  }
}
