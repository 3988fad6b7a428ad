// The browser-mode access token: `attnvgg serve` prints the address with it in the fragment
// (`#token=…`, or `#/screen?token=…`), which browsers never send to any server. It is taken from there
// once, kept for this tab in sessionStorage (scoped to this page's own origin, port included, so a reload
// still connects), and removed from the address bar; it goes only to this server's WebSocket.
const KEY = 'attnvgg-access-token';

/** The token from the address's fragment, or undefined; `screen` is the rest of the fragment. */
export function tokenFromFragment(hash: string): { token?: string; screen: string } {
  const fragment = hash.replace(/^#/, '');
  const query = fragment.indexOf('?');
  const params = new URLSearchParams(query >= 0 ? fragment.slice(query + 1) : fragment);
  const token = params.get('token') ?? undefined;
  if (!token) return { screen: fragment };
  return { token, screen: query >= 0 ? fragment.slice(0, query) : '' };
}

/** Takes the token out of the address (once) and returns the one this tab holds, or ''. */
export function takeAccessToken(): string {
  const { token, screen } = tokenFromFragment(location.hash);
  if (token) {
    sessionStorage.setItem(KEY, token);
    history.replaceState(null, '', `${location.pathname}${location.search}${screen ? `#${screen}` : ''}`);
  }
  return sessionStorage.getItem(KEY) ?? '';
}
