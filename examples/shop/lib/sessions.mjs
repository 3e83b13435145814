// Sessions: a random id in the `shop_session` cookie, the data in Redis. Any instance of any version
// reads the same sessions, so deploys and rollbacks log no one out. The cookie is the app's own and has
// nothing to do with switchyard's sticky cookies.
// MemorySessions is the contrast: sessions in the process, lost when a deploy replaces it.
import { randomBytes } from 'node:crypto';
import { readCookie } from './http.mjs';

export const SESSION_COOKIE = 'shop_session';
const TTL_SECONDS = 24 * 3600;
// Versioned like any shared format: a release that changes the session's shape uses a new prefix
// (and reads the old one) instead of misreading sessions written by the other version.
const PREFIX = 'shop:session:1:';

export class RedisSessions {
  constructor(redis) {
    this.redis = redis;
  }

  async create(data) {
    const id = randomBytes(24).toString('base64url');
    await this.redis.set(PREFIX + id, JSON.stringify(data), { expiration: { type: 'EX', value: TTL_SECONDS } });
    return id;
  }

  async get(id) {
    const text = await this.redis.get(PREFIX + id);
    return text === null ? null : JSON.parse(text);
  }

  async destroy(id) {
    await this.redis.del(PREFIX + id);
  }
}

export class MemorySessions {
  sessions = new Map();

  async create(data) {
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, data);
    return id;
  }

  async get(id) {
    return this.sessions.get(id) ?? null;
  }

  async destroy(id) {
    this.sessions.delete(id);
  }
}

export function sessionIdOf(req) {
  return readCookie(req.headers.cookie, SESSION_COOKIE);
}

export function sessionCookie(id) {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${TTL_SECONDS}`;
}
