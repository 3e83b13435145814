// A tiny element builder for plain DOM: text is always set as text (never parsed as HTML), so event
// messages and hook output cannot inject markup.

export type Child = Node | string | number | null | undefined | false | Child[];
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener | Record<string, string>>;

/**
 * Builds an element: `on*` attributes add listeners, `style` takes an object (CSSOM, allowed by the
 * page's CSP), true adds a bare attribute, false/null/undefined leave it out.
 *
 * @example
 * h('button', { class: 'btn', onclick: () => go() }, 'Promote')
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (typeof value === 'object') {
      if (name === 'style') for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
    } else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

const signatures = new WeakMap<Element, string>();

/**
 * Replaces a slot's content only when `signature` changed since the last call. Focus goes back to the
 * element with the same `data-focus` key and `<details data-key>` stay open, so a once-a-second refresh
 * never steals the keyboard or closes what the reader opened.
 */
export function patch(slot: Element, signature: string, build: () => Child): void {
  if (signatures.get(slot) === signature) return;
  signatures.set(slot, signature);
  const active = document.activeElement;
  const focusKey = active instanceof HTMLElement && slot.contains(active) ? active.dataset.focus : undefined;
  const open = [...slot.querySelectorAll<HTMLDetailsElement>('details[open][data-key]')].map((d) => d.dataset.key!);
  slot.replaceChildren();
  append(slot, [build()]);
  for (const key of open) slot.querySelector<HTMLDetailsElement>(`details[data-key="${CSS.escape(key)}"]`)?.setAttribute('open', '');
  if (focusKey !== undefined) slot.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();
}

/** Forgets a slot's signature so the next patch rebuilds it (after a theme change, say). */
export function invalidate(slot: Element): void {
  signatures.delete(slot);
}
