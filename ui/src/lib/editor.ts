// Helpers for the protocol editor: keeping the user's cursor in place when
// merged text replaces what is in the textarea.

/** Where `pos` in `before` lands in `after`, assuming one contiguous change. */
export function mapPosition(before: string, after: string, pos: number): number {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  if (pos <= start) return pos;
  if (pos >= endBefore) return pos + (after.length - before.length);
  return endAfter;
}

/** Replaces a textarea's value, keeping the selection where the user had it. */
export function replaceKeepingSelection(el: HTMLTextAreaElement, next: string) {
  const before = el.value;
  if (before === next) return;
  const focused = typeof document !== 'undefined' && document.activeElement === el;
  const s = mapPosition(before, next, el.selectionStart);
  const e = mapPosition(before, next, el.selectionEnd);
  el.value = next;
  if (focused) el.setSelectionRange(s, e);
}
