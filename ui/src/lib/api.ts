// Typed wrappers around the Tauri commands in src-tauri/src/commands.rs.
// The types come from bindings.ts, generated from the Rust types.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type * as B from './bindings';

export const EVENT_CHANGED = 'outpost://changed';
export const EVENT_STATUS = 'outpost://status';

/** An error from the backend: a sentence and, for validation, the field. */
export class ApiError extends Error {
  field: string | null;
  constructor(e: B.UiError) {
    super(e.message);
    this.field = e.field;
  }
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    if (e && typeof e === 'object' && 'message' in e) {
      const err = e as { message: unknown; field?: unknown };
      throw new ApiError({
        message: String(err.message),
        field: typeof err.field === 'string' ? err.field : null,
      });
    }
    throw new ApiError({ message: String(e), field: null });
  }
}

export const api = {
  appState: () => call<B.AppInfo>('app_state'),
  initProfile: (profile: B.MemberProfile, passphrase: string | null = null) =>
    call<B.Whoami>('init_profile', { profile, passphrase }),
  unlock: (passphrase: string) => call<B.AppInfo>('unlock', { passphrase }),
  scanText: (texts: string[]) => call<B.TextFinding[][]>('scan_text', { texts }),
  setProfile: (profile: B.MemberProfile) => call<B.Whoami>('set_profile', { profile }),
  createCommunity: (community: B.NewCommunity) =>
    call<B.CommunityRow>('create_community', { community }),
  openDemo: () => call<B.DemoSummary>('open_demo'),
  join: (ticket: string) => call<B.JoinResult>('join', { ticket }),
  community: (id: string) => call<B.CommunityView>('community', { id }),
  listItems: (filter: Partial<B.ListFilter>) =>
    call<B.ItemRow[]>('list_items', { filter: { community: null, kind: null, tag: null, limit: null, ...filter } }),
  search: (query: string, filter: Partial<B.ListFilter>) =>
    call<B.SearchHit[]>('search', {
      query,
      filter: { community: null, kind: null, tag: null, limit: null, ...filter },
    }),
  show: (id: string) => call<B.ItemDetail>('show', { id }),
  history: (id: string) => call<B.HistoryLine[]>('history', { id }),
  createItem: (community: string, item: B.NewItem) =>
    call<B.ItemRow>('create_item', { community, item }),
  reply: (caseId: string, body: string) => call<B.PostRef>('reply', { case: caseId, body }),
  caseOutcome: (caseId: string, outcome: string) =>
    call<B.ItemRow>('case_outcome', { case: caseId, outcome }),
  caseStatus: (caseId: string, status: B.CaseStatus) =>
    call<B.ItemRow>('case_status', { case: caseId, status }),
  answer: (question: string, body: string) => call<B.PostRef>('answer', { question, body }),
  accept: (answer: string) => call<B.PostRef>('accept', { answer }),
  helpful: (answer: string) => call<boolean>('helpful', { answer }),
  protocolSave: (id: string, base: string[], body: string) =>
    call<B.ProtocolSaved>('protocol_save', { id, base, body }),
  protocolStatus: (id: string, status: B.ProtocolStatus) =>
    call<B.ItemRow>('protocol_status', { id, status }),
  protocolReviewDate: (id: string, date: string | null) =>
    call<B.ItemRow>('protocol_review_date', { id, date }),
  protocolAddReference: (id: string, reference: string) =>
    call<B.ItemRow>('protocol_add_reference', { id, reference }),
  comment: (item: string, body: string) => call<B.PostRef>('comment', { item, body }),
  members: (community: string) => call<B.MemberInfo[]>('members', { community }),
  memberRemove: (community: string, member: string) =>
    call<string>('member_remove', { community, member }),
  memberRole: (community: string, member: string, role: B.Role) =>
    call<string>('member_role', { community, member, role }),
  invite: (community: string, days: number | null) =>
    call<B.InviteView>('invite', { community, days }),
  connectivity: () => call<B.Connectivity>('connectivity'),
  setRelayUrl: (url: string | null) => call<string | null>('set_relay_url', { url }),
  exchangeInfo: (community: string) => call<B.ExchangeInfo>('exchange_info', { community }),
  exportBundle: (community: string, path: string, passphrase: string) =>
    call<B.ExportSummary>('export_bundle', { community, path, passphrase }),
  importBundle: (path: string, passphrase: string) =>
    call<B.ImportSummary>('import_bundle', { path, passphrase }),
  exportMarkdown: (community: string, dir: string) => call<number>('export_markdown', { community, dir }),
  memberAdd: (community: string, device: string) => call<string>('member_add', { community, device }),
  changePassphrase: (current: string, next: string) => call<null>('change_passphrase', { current, new: next }),
};

export function onChanged(cb: (c: B.Changed) => void): Promise<UnlistenFn> {
  return listen<B.Changed>(EVENT_CHANGED, (e) => cb(e.payload));
}

export function onStatus(cb: (c: B.Connectivity) => void): Promise<UnlistenFn> {
  return listen<B.Connectivity>(EVENT_STATUS, (e) => cb(e.payload));
}
