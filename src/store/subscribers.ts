// Who hears about new events, and when: at once for a lone write, but only after the commit when the write
// is inside a Store.transaction, so no listener ever sees an event that was rolled back.
import type { EventRow } from './rows.js';

export type EventListener = (event: EventRow) => void;

export class Subscribers {
  readonly #listeners = new Set<{ listener: EventListener }>();
  /** Events written inside the open transaction(s), waiting for the outermost commit. */
  #pending: EventRow[] = [];
  #depth = 0;

  /** Returns the unsubscribe function; subscribing the same function twice delivers twice. */
  add(listener: EventListener): () => void {
    const entry = { listener };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  clear(): void {
    this.#listeners.clear();
    this.#pending = [];
  }

  /** A new event has been inserted. */
  publish(event: EventRow): void {
    if (this.#depth > 0) this.#pending.push(event);
    else this.#deliver([event]);
  }

  /** Runs `body` as one (possibly nested) transaction's span, holding back its events until the outermost commit. */
  within<T>(body: () => T): T {
    const mark = this.#pending.length;
    this.#depth += 1;
    let result: T;
    try {
      result = body();
    } catch (err) {
      this.#pending.length = mark; // this span was rolled back, and its events with it
      throw err;
    } finally {
      this.#depth -= 1;
    }
    if (this.#depth === 0) {
      const events = this.#pending;
      this.#pending = [];
      this.#deliver(events);
    }
    return result;
  }

  #deliver(events: readonly EventRow[]): void {
    for (const event of events) {
      for (const { listener } of [...this.#listeners]) {
        try {
          listener(event);
        } catch (err) {
          // The event is stored; one failing listener must not stop the writer or the other listeners.
          process.emitWarning(`an event listener failed on event ${String(event.id)}: ${String(err)}`, {
            code: 'SY_WARN_EVENT_LISTENER',
          });
        }
      }
    }
  }
}
