// Typed wrappers around the Tauri commands in src-tauri/src/commands.rs.
// The types come from bindings.ts, generated from the Rust types.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type * as B from './bindings';
import { t } from './i18n.svelte';

export const EVENT_CHANGED = 'outpost://changed';
export const EVENT_STATUS = 'outpost://status';

/**
 * An error from the backend: its stable code, the values a message needs,
 * and, for validation, the field. The message is the locale's sentence for
 * the code (`error.<code>`), else the backend's English one.
 */
export class ApiError extends Error {
  code: string;
  field: string | null;
  params: Record<string, string>;
  constructor(e: B.UiError) {
    super(translateError(e));
    this.code = e.code;
    this.field = e.field;
    this.params = e.params;
  }
}

/** The UI's sentence for a backend error, in the current language. */
export function translateError(e: B.UiError): string {
  const key = 'error.' + e.code;
  const vars: Record<string, string> = { ...e.params };
  // Words the backend names by code (what an id turned out to be).
  for (const k of ['expected', 'actual']) if (vars[k]) vars[k] = t('target.' + vars[k]);
  const text = t(key, vars);
  return text === key ? e.message : text;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    if (e && typeof e === 'object' && 'message' in e) {
      const err = e as { message: unknown; field?: unknown; code?: unknown; params?: unknown };
      throw new ApiError({
        code: typeof err.code === 'string' ? err.code : 'app',
        message: String(err.message),
        field: typeof err.field === 'string' ? err.field : null,
        params: err.params && typeof err.params === 'object' ? (err.params as Record<string, string>) : {},
      });
    }
    throw new ApiError({ code: 'app', message: String(e), field: null, params: {} });
  }
}

const noFilter: B.ListFilter = { community: null, kind: null, status: null, tag: null, limit: null };

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
  join: (ticket: string) => call<B.Joined>('join', { ticket }),
  community: (id: string) => call<B.CommunityView>('community', { id }),
  listItems: (filter: Partial<B.ListFilter>) => call<B.ItemRow[]>('list_items', { filter: { ...noFilter, ...filter } }),
  search: (query: string, filter: Partial<B.ListFilter>) =>
    call<B.SearchHit[]>('search', { query, filter: { ...noFilter, ...filter } }),
  show: (id: string) => call<B.ItemDetail>('show', { id }),
  history: (id: string) => call<B.HistoryLine[]>('history', { id }),
  createItem: (community: string, item: B.NewItem, share: B.Sharing) =>
    call<B.ItemRow>('create_item', { community, item, share }),
  reply: (caseId: string, body: string, share: B.Sharing) =>
    call<B.PostRef>('reply', { case: caseId, body, share }),
  caseOutcome: (caseId: string, outcome: string, share: B.Sharing) =>
    call<B.ItemRow>('case_outcome', { case: caseId, outcome, share }),
  caseStatus: (caseId: string, status: B.CaseStatus) =>
    call<B.ItemRow>('case_status', { case: caseId, status }),
  answer: (question: string, body: string, share: B.Sharing) =>
    call<B.PostRef>('answer', { question, body, share }),
  accept: (answer: string) => call<B.PostRef>('accept', { answer }),
  helpful: (answer: string) => call<boolean>('helpful', { answer }),
  protocolSave: (id: string, base: string[], body: string, share: B.Sharing) =>
    call<B.ProtocolSaved>('protocol_save', { id, base, body, share }),
  protocolStatus: (id: string, status: B.ProtocolStatus) =>
    call<B.ItemRow>('protocol_status', { id, status }),
  protocolReviewDate: (id: string, date: string | null) =>
    call<B.ItemRow>('protocol_review_date', { id, date }),
  protocolAddReference: (id: string, reference: string, share: B.Sharing) =>
    call<B.ItemRow>('protocol_add_reference', { id, reference, share }),
  comment: (item: string, body: string, share: B.Sharing) => call<B.PostRef>('comment', { item, body, share }),
  members: (community: string) => call<B.MemberInfo[]>('members', { community }),
  memberRemove: (community: string, member: string) =>
    call<string>('member_remove', { community, member }),
  memberRole: (community: string, member: string, role: B.Role) =>
    call<string>('member_role', { community, member, role }),
  invite: (community: string, days: number | null) =>
    call<B.Invitation>('invite', { community, days }),
  pendingInvites: (community: string) => call<B.PendingInvite[]>('pending_invites', { community }),
  revokeInvite: (community: string, invitation: string) =>
    call<null>('revoke_invite', { community, invitation }),
  refusedChanges: (community: string) => call<B.RefusedChange[]>('refused_changes', { community }),
  forks: (community: string) => call<B.ForkRow[]>('forks', { community }),
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
