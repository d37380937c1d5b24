import { describe, expect, it } from 'vitest';
import { mapPosition, replaceKeepingSelection } from './editor';

describe('mapPosition', () => {
  it('keeps a cursor before a remote insertion', () => {
    expect(mapPosition('abc def', 'abc XX def', 2)).toBe(2);
  });
  it('shifts a cursor after a remote insertion', () => {
    expect(mapPosition('abc def', 'XX abc def', 5)).toBe(8);
  });
  it('shifts a cursor after a remote deletion', () => {
    expect(mapPosition('one two three', 'one three', 11)).toBe(7);
  });
  it('moves a cursor inside a replaced span to its end', () => {
    expect(mapPosition('a bbb c', 'a Z c', 3)).toBe(3);
  });
});

describe('replaceKeepingSelection', () => {
  it('merged text arrives without moving the caret', () => {
    const el = document.createElement('textarea');
    document.body.append(el);
    el.value = 'Step one.\nStep two.';
    el.focus();
    el.setSelectionRange(4, 4);
    replaceKeepingSelection(el, 'Note from Tomás.\nStep one.\nStep two.');
    expect(el.value).toBe('Note from Tomás.\nStep one.\nStep two.');
    expect(el.selectionStart).toBe(4 + 'Note from Tomás.\n'.length);
    el.remove();
  });
});
