// Timing marks the benchmarks read through WebDriver (`cargo xtask bench`):
// when the first community list was on screen, and how long each
// search-as-you-type keystroke took to show its results. Cheap enough to
// keep in the real app.
type PerfWindow = Window & {
  __outpost_first_list?: number;
  __outpost_search_ms?: number[];
  __outpost_search_call_ms?: number[];
  __outpost_search_dom_ms?: number[];
};

export function markFirstList() {
  const w = window as PerfWindow;
  if (w.__outpost_first_list) return;
  // After the frame that shows the list.
  requestAnimationFrame(() => {
    w.__outpost_first_list ??= Date.now();
    performance.mark('outpost:first-list');
  });
}

/** Records keystroke (event timestamp) → results in the DOM, and → the
 * next animation frame after that. */
export function recordSearch(inputAt: number) {
  const w = window as PerfWindow;
  const dom = (w.__outpost_search_dom_ms ??= []);
  dom.push(performance.now() - inputAt);
  if (dom.length > 500) dom.shift();
  requestAnimationFrame(() => {
    const list = (w.__outpost_search_ms ??= []);
    list.push(performance.now() - inputAt);
    if (list.length > 500) list.shift();
  });
}

/** Records how long the search command itself took (IPC + backend). */
export function recordSearchCall(ms: number) {
  const w = window as PerfWindow;
  const list = (w.__outpost_search_call_ms ??= []);
  list.push(ms);
  if (list.length > 500) list.shift();
}
