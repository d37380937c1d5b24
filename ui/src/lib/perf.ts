// Timing marks the benchmarks read through WebDriver (`cargo xtask bench`):
// when the first community list was on screen, and how long each
// search-as-you-type keystroke took to show its results. Cheap enough to
// keep in the real app.
type PerfWindow = Window & { __outpost_first_list?: number; __outpost_search_ms?: number[] };

export function markFirstList() {
  const w = window as PerfWindow;
  if (w.__outpost_first_list) return;
  // After the frame that shows the list.
  requestAnimationFrame(() => {
    w.__outpost_first_list ??= Date.now();
    performance.mark('outpost:first-list');
  });
}

/** Records keystroke (event timestamp) → results painted. */
export function recordSearch(inputAt: number) {
  const w = window as PerfWindow;
  requestAnimationFrame(() => {
    const list = (w.__outpost_search_ms ??= []);
    list.push(performance.now() - inputAt);
    if (list.length > 500) list.shift();
  });
}
