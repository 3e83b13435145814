// The only thing shown while the admin API wants a token: a form that asks for it once.
import { h } from '../views/dom.js';

export function tokenForm(message: string | null, submit: (token: string) => void): HTMLElement {
  const input = h('input', { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' });
  const form = h(
    'form',
    { class: 'signin-card', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Admin token needed'),
    h('p', { class: 'muted' }, 'This daemon’s admin API is protected. The token is kept for this tab only and sent as a header, never as a cookie.'),
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'Token'), input),
    message === null ? null : h('p', { class: 'form-error', role: 'alert' }, message),
    h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Continue')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim() !== '') submit(input.value);
  });
  queueMicrotask(() => input.focus());
  return h('div', { class: 'signin' }, form);
}
