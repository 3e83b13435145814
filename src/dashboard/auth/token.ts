// The admin token for this tab: kept in sessionStorage (gone when the tab closes, never a cookie, so
// the browser never sends it on its own and there is nothing to forge a request with).

const KEY = 'switchyard.adminToken';

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: the token lives as long as the page (see memory below).
  }
  memory = token;
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
  memory = null;
}

/** The token to send: the stored one, or the one given in this page when storage is disabled. */
export function currentToken(): string | null {
  return readToken() ?? memory;
}

let memory: string | null = null;
