/** A tiny hash router: #/inbox, #/requests/ID... The route survives an idle lock and a reload. */
import { useSyncExternalStore } from 'react';

const subscribe = (notify: () => void) => {
  window.addEventListener('hashchange', notify);
  return () => window.removeEventListener('hashchange', notify);
};
const read = () => window.location.hash;

/** The route's segments, decoded: '#/requests/abc' → ['requests', 'abc']; empty → ['inbox']. */
export function useRoute(): string[] {
  const hash = useSyncExternalStore(subscribe, read, () => '');
  const path = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return parts.length ? parts : ['inbox'];
}

export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;

export function navigate(...parts: string[]): void {
  window.location.hash = href(...parts);
}

/** The query after the route: '#/compose?to=sn.mj' → to=sn.mj. */
export function useRouteQuery(): URLSearchParams {
  const hash = useSyncExternalStore(subscribe, read, () => '');
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}
