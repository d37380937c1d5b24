// Live state pushed by the backend: which documents changed (views reload
// what they show), and the connectivity picture for the global indicator.
import type { Changed, Connectivity } from './bindings';
import { onChanged, onStatus } from './api';

export const live = $state({
  /** Bumped on every change event. */
  version: 0,
  /** Documents in the latest change event. */
  docs: new Set<string>(),
  communities: new Set<string>(),
  status: null as Connectivity | null,
  /** Bumped on every status event (they come when peers' figures move):
   * views showing "not yet synced" badges check them again. */
  syncVersion: 0,
});

export function applyChanged(c: Changed) {
  live.docs = new Set(c.docs.map((d) => d.doc));
  live.communities = new Set(c.docs.map((d) => d.community));
  live.version += 1;
}

export async function startLive() {
  await onChanged(applyChanged);
  await onStatus((s) => {
    live.syncVersion += 1;
    live.status = s;
  });
}
