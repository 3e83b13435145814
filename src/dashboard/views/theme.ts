// Light and dark themes: the system's choice by default (pure CSS), or the one picked with the toggle,
// remembered in localStorage (a preference, not a secret).

export type Theme = 'light' | 'dark';

const KEY = 'switchyard.theme';
const dark = matchMedia('(prefers-color-scheme: dark)');
const listeners = new Set<(theme: Theme) => void>();

export function currentTheme(): Theme {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return dark.matches ? 'dark' : 'light';
}

/** Applies the remembered choice; call before the first render. */
export function applyStoredTheme(): void {
  const stored = safeGet();
  if (stored === 'light' || stored === 'dark') document.documentElement.dataset.theme = stored;
  dark.addEventListener('change', () => notify());
}

export function toggleTheme(): void {
  const next: Theme = currentTheme() === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // Not remembered; applies to this page.
  }
  notify();
}

export function onThemeChange(listener: (theme: Theme) => void): void {
  listeners.add(listener);
}

function notify(): void {
  for (const listener of listeners) listener(currentTheme());
}

function safeGet(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}
