// Follows GET /api/v1/events as Server-Sent Events until stopped; reconnects with Last-Event-ID when the
// stream drops, so a daemon hiccup loses no event. Errors never escape: the caller also polls.
import type { AdminClient } from '../admin-client.js';
import type { EventView } from '../api-types.js';
import { sleep } from './sleep.js';
import { SseParser } from './sse-parser.js';

const RECONNECT_MS = 1000;

export async function feedEvents(client: AdminClient, service: string, onEvent: (event: EventView) => void, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = lastId === undefined ? {} : { 'last-event-id': lastId };
      const body = await client.stream(`/api/v1/events?service=${encodeURIComponent(service)}`, headers, signal);
      body.setEncoding('utf8');
      const parser = new SseParser();
      for await (const chunk of body as AsyncIterable<string>) {
        for (const message of parser.push(chunk)) {
          if (message.id !== undefined) lastId = message.id;
          const event = parseEvent(message.data);
          if (event) onEvent(event);
        }
      }
    } catch {
      // Dropped, refused or aborted: polling carries on meanwhile; try again unless told to stop.
    }
    if (!signal.aborted) await sleep(RECONNECT_MS, signal);
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
