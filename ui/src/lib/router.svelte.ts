import type { Kind } from './bindings';

export type Route =
  | { name: 'home' }
  | { name: 'list'; kind: Kind }
  | { name: 'item'; id: string }
  | { name: 'new'; kind: Kind }
  | { name: 'search' }
  | { name: 'members' }
  | { name: 'connectivity' }
  | { name: 'exchange' }
  | { name: 'settings' };

export const nav = $state({
  route: { name: 'home' } as Route,
  /** The community the user is looking at. */
  community: '',
  history: [] as Route[],
});

export function go(route: Route) {
  nav.history.push(nav.route);
  nav.route = route;
  // Move focus to the new view's heading for keyboard and screen-reader users.
  queueMicrotask(() => document.querySelector<HTMLElement>('main h1')?.focus());
}

export function back() {
  const prev = nav.history.pop();
  if (prev) nav.route = prev;
}
