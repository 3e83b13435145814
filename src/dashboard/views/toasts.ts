// Short messages after an action: what happened, or what the API said went wrong.
import { h } from './dom.js';

const OK_MS = 4000;
const ERROR_MS = 9000;

export class Toasts {
  readonly element = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });

  show(message: string, kind: 'ok' | 'error'): void {
    const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
    const toast = h('div', { class: `toast toast-${kind}` }, h('span', null, message), close);
    const remove = () => toast.remove();
    close.addEventListener('click', remove);
    setTimeout(remove, kind === 'error' ? ERROR_MS : OK_MS);
    this.element.append(toast);
  }
}
