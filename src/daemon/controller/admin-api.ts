// The admin API's server as every control plane opens and closes it: the token from the config (or its
// file), wrong tokens logged, listening on the socket the keeper handed down.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createAdminServer, listenOn } from '../../api/admin-server.js';
import { TokenAuth } from '../../api/auth.js';
import type { Router } from '../../api/router.js';
import type { Config } from '../../config/index.js';
import { StartError } from '../start-error.js';

export async function serveAdminApi(config: Config, router: Router, fd: number, log: Logger): Promise<Server> {
  const admin = createAdminServer({
    router,
    auth: new TokenAuth(readToken(config)),
    onError: (err) => log.error({ err }, 'admin API error'),
    onAuthFailure: (address, path, blocked) =>
      log.warn({ address, path, blocked }, blocked ? 'admin API: too many wrong tokens; address blocked for a minute' : 'admin API: missing or wrong token'),
  });
  await listenOn(admin, { fd });
  return admin;
}

/** Stops the admin API; event streams (dashboards, `deploy` following along) never end by themselves, so they are cut. */
export async function closeAdminApi(admin: Server | null): Promise<void> {
  if (admin === null) return;
  const closed = new Promise<void>((resolve) => admin.close(() => resolve()));
  admin.closeAllConnections();
  await closed;
}

function readToken(config: Config): string | null {
  if (config.admin.token !== undefined) return config.admin.token;
  if (config.admin.tokenFile !== undefined) {
    const token = readFileSync(config.admin.tokenFile, 'utf8').trim();
    if (token.length < 16) throw new StartError(`${config.admin.tokenFile}: the admin token must be at least 16 characters`);
    return token;
  }
  return null;
}
