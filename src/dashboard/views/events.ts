// The service's events, newest first. New events are added at the top without rebuilding the list, so
// reading it (or its scroll position) is not disturbed once a second.
import type { EventView } from '../api/types.js';
import { h } from './dom.js';
import { formatTime } from './format.js';
import { badge, type Tone } from './phase.js';

const SHOWN = 200;

export class EventsList {
  readonly element: HTMLOListElement;
  private service: string | null = null;
  private lastId = 0;

  constructor() {
    this.element = h('ol', { class: 'events', 'aria-label': 'Events' });
  }

  update(events: readonly EventView[], service: string | null): void {
    if (service !== this.service || (events.length > 0 && events[events.length - 1]!.id < this.lastId)) {
      this.service = service;
      this.lastId = 0;
      this.element.replaceChildren();
    }
    const fresh = events.filter((e) => e.id > this.lastId && (e.service === service || e.service === null));
    if (fresh.length > 0) {
      this.lastId = events[events.length - 1]!.id;
      this.element.prepend(...fresh.reverse().map(row));
      while (this.element.children.length > SHOWN) this.element.lastElementChild!.remove();
    } else if (events.length > 0) {
      this.lastId = Math.max(this.lastId, events[events.length - 1]!.id);
    }
    if (this.element.children.length === 0) this.element.append(h('li', { class: 'empty' }, 'No events yet.'));
    else this.element.querySelector(':scope > li.empty')?.remove();
  }
}

function row(e: EventView): HTMLElement {
  return h(
    'li',
    { class: 'event', 'data-type': e.type, 'data-event-id': String(e.id) },
    h('time', { class: 'muted num', datetime: e.time }, formatTime(e.time)),
    badge(e.type, toneOf(e.type)),
    h('span', { class: 'event-message' }, e.message),
  );
}

function toneOf(type: string): Tone {
  if (/(fail|failed|rolled-back|rolling-back|crashed|unhealthy|ejected|degraded)$/.test(type)) return 'bad';
  if (/(paused|inconclusive|undo|aborted)$/.test(type)) return 'warn';
  if (/(succeeded|passed|pass|ready|stable)$/.test(type)) return 'ok';
  if (type.startsWith('deployment.') || type.startsWith('step.')) return 'info';
  return 'neutral';
}
