// Which web addresses the desktop app opens in the user's browser (shell.openExternal): https only, on
// an explicit list of hosts, with no user name, password or other port. Everything else a page tries
// (window.open, a link with a target, a navigation away from app://) is refused. The list is the hosts
// of the ImageNet weights catalogue (services/backbone/catalogue.ts), whose source pages the Models
// screen links to, and nothing else. Pure; must not import electron.

import { CATALOGUE_HOSTS } from '../services/backbone/catalogue.js';

/** Hosts whose https pages may open in the user's browser. */
export const EXTERNAL_HOSTS: readonly string[] = [...CATALOGUE_HOSTS].sort();

/** True when `url` may be opened in the user's browser. */
export function externalLinkAllowed(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.port === '' &&
    hosts.some((host) => host.toLowerCase() === parsed.hostname)
  );
}
