// GET /api/v1/events read with fetch and a stream reader, since EventSource cannot send the bearer
// header. When the stream drops it reconnects with Last-Event-ID (so no event is lost) after a growing
// pause, and reports whether the daemon is reachable.
import { SseParser } from '../../cli/follow/sse-parser.js';
import type { EventView } from './types.js';

export type FeedStatus = 'connecting' | 'live' | 'unreachable' | 'unauthorized';

export interface FeedHandlers {
  onEvent(event: EventView): void;
  onStatus(status: FeedStatus, retryInMs?: number): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;

/**
 * Follows the event stream until `stop()`.
 *
 * @example
 * const feed = new EventFeed(() => client.headers(), { onEvent: show, onStatus: setBadge });
 * feed.start();
 */
export class EventFeed {
  private lastId: string | undefined;
  private controller: AbortController | null = null;
  private stopped = true;
  private retryMs = FIRST_RETRY_MS;
  private wake: (() => void) | null = null;
  /** Bumped by every start, so a loop left over from before a stop never runs beside a new one. */
  private generation = 0;

  constructor(
    private readonly headers: (extra: Record<string, string>) => Record<string, string>,
    private readonly handlers: FeedHandlers,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.loop(++this.generation);
  }

  /** Stops and forgets where it was: the next start replays the recent backlog. */
  stop(): void {
    this.stopped = true;
    this.lastId = undefined;
    this.controller?.abort();
    this.wake?.();
  }

  /** Skips the current wait and connects now (after a token was given, or the tab came back). */
  retryNow(): void {
    this.retryMs = FIRST_RETRY_MS;
    this.wake?.();
  }

  private async loop(generation: number): Promise<void> {
    const current = () => !this.stopped && generation === this.generation;
    while (current()) {
      this.handlers.onStatus('connecting');
      const outcome = await this.readOnce();
      if (!current()) return;
      if (outcome === 'unauthorized') {
        this.handlers.onStatus('unauthorized');
        this.stopped = true;
        return;
      }
      this.handlers.onStatus('unreachable', this.retryMs);
      await this.pause(this.retryMs);
      if (!current()) return;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    }
  }

  /** One connection, read until it ends. */
  private async readOnce(): Promise<'ended' | 'unauthorized'> {
    const controller = new AbortController();
    this.controller = controller;
    try {
      const extra: Record<string, string> = { accept: 'text/event-stream' };
      if (this.lastId !== undefined) extra['last-event-id'] = this.lastId;
      const res = await fetch('/api/v1/events', { headers: this.headers(extra), signal: controller.signal, credentials: 'omit', cache: 'no-store' });
      if (res.status === 401) return 'unauthorized';
      if (!res.ok || res.body === null) return 'ended';
      this.handlers.onStatus('live');
      this.retryMs = FIRST_RETRY_MS;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'ended';
        for (const message of parser.push(value)) {
          if (message.id !== undefined) this.lastId = message.id;
          const event = parseEvent(message.data);
          if (event !== undefined) this.handlers.onEvent(event);
        }
      }
    } catch {
      return 'ended';
    } finally {
      this.controller = null;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function parseEvent(data: string): EventView | undefined {
  try {
    const event = JSON.parse(data) as EventView;
    return typeof event.id === 'number' && typeof event.type === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}
