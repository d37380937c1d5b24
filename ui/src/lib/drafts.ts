// Protocol text whose autosave was held (possible patient identifiers) or
// refused, kept while the user looks elsewhere so leaving the editor loses
// nothing. Only in memory: it may hold identifiers, so it is never written
// to the webview's storage, which is not encrypted.

export interface Draft {
  /** The text as the author left it. */
  text: string;
  /** The heads and text it was derived from, so a later save merges. */
  base: string[];
  baseText: string;
}

const drafts = new Map<string, Draft>();

export function keepDraft(id: string, draft: Draft) {
  drafts.set(id, draft);
}

export function dropDraft(id: string) {
  drafts.delete(id);
}

/** The draft left for this item, if any; it stays kept until saved. */
export function draftOf(id: string): Draft | undefined {
  return drafts.get(id);
}
