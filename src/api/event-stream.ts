// GET /api/v1/events: the store's events as Server-Sent Events. A client that reconnects with
// Last-Event-ID (or ?after=) gets what it missed first; a comment every 15 s keeps proxies from
// closing an idle stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventRow, Store } from '../store/index.js';

const HEARTBEAT_MS = 15_000;
const BACKLOG = 200;

export function streamEvents(store: Store, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const service = query.get('service') ?? undefined;
  const lastId = Number(req.headers['last-event-id'] ?? query.get('after') ?? NaN);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const send = (event: EventRow) => {
    if (service !== undefined && event.service !== service && event.service !== null) return;
    res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  const backlog = Number.isFinite(lastId) ? store.events({ service, afterId: lastId, limit: 10_000 }) : store.events({ service, limit: BACKLOG });
  for (const event of backlog) send(event);
  const unsubscribe = store.subscribe(send);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  res.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}
