// A modal confirmation for destructive controls: a native <dialog>, so focus stays inside, Escape
// cancels, and Cancel is focused first.
import { h } from './dom.js';

export function confirmAction(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'btn', autofocus: true }, 'Cancel');
    const confirm = h('button', { type: 'button', class: 'btn btn-danger', 'data-confirm': 'yes' }, confirmLabel);
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', null, message),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener('click', () => close(false));
    confirm.addEventListener('click', () => close(true));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
