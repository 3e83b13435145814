// The top bar: name, connection state, the theme toggle, and "forget the token" when one is in use.
import type { AppState } from '../state/store.js';
import { h, patch } from './dom.js';
import { currentTheme, onThemeChange, toggleTheme } from './theme.js';

export interface HeaderHandlers {
  signOut(): void;
  hasToken(): boolean;
}

export class Header {
  readonly element: HTMLElement;
  private readonly status = h('span', { class: 'conn', role: 'status' });
  private readonly actions = h('div', { class: 'top-actions' });
  private readonly themeButton: HTMLButtonElement;

  constructor(private readonly handlers: HeaderHandlers) {
    this.themeButton = h('button', { type: 'button', class: 'btn btn-icon', onclick: () => toggleTheme() });
    this.element = h(
      'header',
      { class: 'topbar' },
      h('div', { class: 'brand' }, h('img', { src: '/assets/favicon.svg', alt: '', width: '22', height: '22' }), h('span', null, 'switchyard')),
      this.status,
      this.actions,
      this.themeButton,
    );
    this.labelTheme();
    onThemeChange(() => this.labelTheme());
  }

  render(state: AppState): void {
    const unreachable = state.unreachableSince !== null || state.feed === 'unreachable';
    const [text, tone] =
      state.auth !== 'ok' ? ['', 'idle'] : unreachable ? ['daemon unreachable', 'bad'] : state.feed === 'live' ? ['live', 'ok'] : ['connecting…', 'warn'];
    patch(this.status, `${text}|${tone}`, () => (text === '' ? null : [h('span', { class: `dot dot-${tone}`, 'aria-hidden': 'true' }), text]));
    this.status.dataset.conn = tone;
    const signOut = state.auth === 'ok' && this.handlers.hasToken();
    patch(this.actions, String(signOut), () =>
      signOut ? h('button', { type: 'button', class: 'btn btn-quiet', 'data-focus': 'signout', onclick: () => this.handlers.signOut() }, 'Forget token') : null,
    );
  }

  private labelTheme(): void {
    const dark = currentTheme() === 'dark';
    this.themeButton.textContent = dark ? '☀' : '☾';
    this.themeButton.setAttribute('aria-label', dark ? 'Switch to the light theme' : 'Switch to the dark theme');
    this.themeButton.title = this.themeButton.getAttribute('aria-label')!;
  }
}
