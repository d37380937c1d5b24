// An in-memory Outpost backend behind @tauri-apps/api/mocks, for the
// browser tests (vite build --mode e2e). It implements every command the
// UI calls with the same shapes (bindings.ts) and the same validation
// fields as the Rust side, so the UI's flows run end to end without Tauri.
// `window.__outpost` lets a test simulate another member's change.
import { mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import type * as B from '../lib/bindings';

// Errors have the Rust side's shape: a stable code (translated by the UI),
// the English message, the field, and the values a message needs.
const fail = (message: string, field: string | null = null, code = 'app', params: Record<string, string> = {}): never => {
  throw { code, message, field, params } satisfies B.UiError;
};

let clock = Date.UTC(2026, 10, 20, 9, 0, 0);
const now = () => (clock += 60_000);
let counter = 0;
const newId = () => `0000${(++counter).toString(16)}-mock-4000-8000-${counter.toString().padStart(12, '0')}`;

const state = {
  me: null as B.Whoami | null,
  communities: [] as B.Community[],
  items: new Map<string, B.Item & { synced: boolean; heads: string[]; history: B.HistoryLine[] }>(),
  relay: null as string | null,
  /** What the home is locked with (the first-run form chose none here). */
  passphrase: 'correct horse battery staple',
  peers: [] as B.PeerView[],
  invites: [] as B.PendingInvite[],
  refused: [] as B.RefusedChange[],
  forks: [] as B.ForkRow[],
};

/** Bundles "written" by export_bundle, by path. */
const files = new Map<string, { community: string; name: string; passphrase: string; documents: number }>();

function meAsMember(role: B.Role): B.Member {
  const me = state.me ?? fail('create your profile first');
  return { id: me.id, name: me.name, profession: me.profession, region: me.region, expertise: me.expertise, role, joined_at: now() };
}

function need(v: string | null | undefined, field: string) {
  if (!v || !v.trim()) fail('is required and must not be empty', field, 'required');
}

function statusOf(i: B.Item): B.ItemStatus {
  if (i.case) return i.case.status;
  if (i.protocol) return i.protocol.status;
  if (i.question?.accepted_answer) return 'accepted';
  return i.answers.length ? 'answered' : 'unanswered';
}

/** Refuses shared text with likely identifiers unless shared as written. */
function checkShare(share: B.Sharing, ...texts: (string | null | undefined)[]) {
  if (share === 'as_written') return;
  const found = texts.flatMap((x) => (x ? mockScan(x) : []));
  if (found.length) fail(`${found.length} likely patient identifier(s) found; nothing was shared`, 'identifiers', 'identifiers', { count: String(found.length) });
}

function row(i: B.Item & { synced: boolean }): B.ItemRow {
  return {
    id: i.id, kind: i.kind, community: i.community, title: i.title, status: statusOf(i),
    author: i.author, author_name: i.author_name, tags: i.tags,
    responses: i.replies.length + i.answers.length + i.comments.length,
    created_at: i.created_at, updated_at: i.updated_at, synced: i.synced,
  };
}

function communityRow(c: B.Community): B.CommunityRow {
  const items = [...state.items.values()].filter((i) => i.community === c.id).length;
  return { id: c.id, name: c.name, domain: c.domain, members: c.members.length, items, created_at: c.created_at, updated_at: c.updated_at };
}

function find(id: string) {
  const i = state.items.get(id) ?? [...state.items.values()].find((x) => x.id.startsWith(id));
  return i ?? fail(`no item, answer or community with id '${id}'`, null, 'not_found', { id });
}

function touch(i: B.Item & { synced: boolean; heads: string[]; history: B.HistoryLine[] }, message: string) {
  i.updated_at = now();
  i.synced = false;
  i.heads = [newId()];
  const me = state.me!;
  i.history.push({ hash: i.heads[0], actor: me.id, time: Math.floor(i.updated_at / 1000), message, author_name: me.name });
}

function post(body: string): B.Post {
  const me = state.me ?? fail('create your profile first');
  if (!body.trim()) fail('is required', 'text');
  return { id: newId(), author: me.id, author_name: me.name, created_at: now(), body };
}

function createItem(community: string, item: B.NewItem, by?: { id: string; name: string }) {
  const c = state.communities.find((x) => x.id === community) ?? fail(`no community '${community}'`);
  need(item.title, 'title');
  if (item.title.length > 200) fail(`is ${item.title.length} characters long; the limit is 200`, 'title', 'too_long', { length: String(item.title.length), max: '200' });
  if (item.kind === 'case') { need(item.presenting, 'presenting'); need(item.ask, 'ask'); }
  if (item.kind === 'question') need(item.body, 'body');
  if (item.kind === 'protocol') {
    need(item.body, 'body');
    if (item.review_date && !/^\d{4}-\d{2}-\d{2}$/.test(item.review_date)) fail('use YYYY-MM-DD', 'review-date');
  }
  const author = by ?? { id: state.me!.id, name: state.me!.name };
  const t = now();
  const base: B.Item = {
    id: newId(), kind: item.kind, community: c.id, title: item.title, author: author.id, author_name: author.name,
    created_at: t, updated_at: t, tags: item.tags, replies: [], answers: [], comments: [],
  };
  if (item.kind === 'case') base.case = {
    age_band: item.age_band, sex: item.sex, setting: item.setting, presenting: item.presenting,
    history: item.history ?? '', findings: item.findings ?? '', ask: item.ask, outcome: '', status: 'open',
  };
  if (item.kind === 'question') base.question = { body: item.body, accepted_answer: null };
  if (item.kind === 'protocol') base.protocol = { body: item.body, status: 'draft', review_date: item.review_date, references: item.references };
  const full = { ...base, synced: !!by, heads: [newId()], history: [] as B.HistoryLine[] };
  full.history.push({ hash: full.heads[0], actor: author.id, time: Math.floor(t / 1000), message: `create ${item.kind}`, author_name: author.name });
  state.items.set(full.id, full);
  return full;
}

function connectivity(): B.Connectivity {
  return {
    id: state.me?.id ?? '', online: true, relay_url: state.relay, peers: state.peers,
    unsynced_items: [...state.items.values()].filter((i) => !i.synced).length,
    progress: { done: 0, total: 0 },
  };
}

function seedDemo(): B.DemoSummary {
  const existing = state.communities.find((c) => c.name === 'Remote & Rural Emergency Care');
  if (existing) return { community: existing.id, name: existing.name, items: 4, created: false };
  const c: B.Community = {
    id: newId(), name: 'Remote & Rural Emergency Care',
    domain: 'Emergency and acute care far from a hospital: stabilisation, retrieval and the judgement calls in between.',
    charter: 'Share **de-identified** cases, ask freely, and keep protocols current.',
    created_by: state.me!.id, created_at: now(), updated_at: now(),
    members: [
      meAsMember('admin'),
      { id: 'b'.repeat(64), name: 'Dr Amina Okafor', profession: 'Rural generalist', region: 'Northern district', expertise: ['obstetrics', 'retrieval'], role: 'member', joined_at: now() },
      { id: 'c'.repeat(64), name: 'Tomás Herrera', profession: 'Nurse practitioner', region: 'Sierra', expertise: ['snakebite', 'toxicology'], role: 'member', joined_at: now() },
    ],
  };
  state.communities.push(c);
  // What a real home lists after a colleague's patched client tried to
  // edit someone else's case: refused at merge, with the rule it broke.
  state.refused.push({ hash: 'e'.repeat(64), doc_id: c.id, actor: 'c'.repeat(64) + '0102030405060708', device: 'c'.repeat(64), reason: 'the rules do not let its device change what it changes', origin: 'c'.repeat(64), at: now() });
  const amina = { id: 'b'.repeat(64), name: 'Dr Amina Okafor' };
  createItem(c.id, { kind: 'case', title: 'Snakebite with delayed coagulopathy', presenting: 'Adult farm worker bitten on the ankle, presenting 6 hours later.', ask: 'When would you give antivenom without a 20-minute clotting test?', age_band: '30-44', sex: 'male', setting: 'clinic', history: null, findings: 'Oozing from the bite site.', tags: ['snakebite', 'toxicology'] }, amina);
  createItem(c.id, { kind: 'question', title: 'Oxytocin storage without a fridge?', body: 'How long does oxytocin keep at 30 °C?', tags: ['obstetrics'] }, amina);
  createItem(c.id, { kind: 'protocol', title: 'Sepsis: first hour in a remote clinic', body: '# Sepsis\n\n1. Recognise: qSOFA ≥ 2\n2. Cultures if possible, then antibiotics\n3. Fluids 30 ml/kg', review_date: '2027-06-01', references: ['Surviving Sepsis Campaign 2021'], tags: ['sepsis'] }, amina);
  createItem(c.id, { kind: 'case', title: 'Febrile toddler, no labs', presenting: 'Toddler with 3 days of fever and a non-blanching rash.', ask: 'Transfer now or treat first?', age_band: '1-4', sex: 'female', setting: 'home-visit', history: null, findings: null, tags: ['paediatrics', 'sepsis'] }, amina);
  state.peers = [
    { id: 'b'.repeat(64), name: 'Dr Amina Okafor', member: true, connected: true, on_lan: true,
      known: { id: 'b'.repeat(64), addr: null, last_seen: now(), last_synced: now(), bytes_in: 52000, bytes_out: 31000, pending_in: 0, pending_out: 1 } },
    { id: 'c'.repeat(64), name: 'Tomás Herrera', member: true, connected: false, on_lan: false,
      known: { id: 'c'.repeat(64), addr: null, last_seen: now() - 86_400_000, last_synced: now() - 86_400_000, bytes_in: 12000, bytes_out: 9000, pending_in: 0, pending_out: 3 } },
  ];
  return { community: c.id, name: c.name, items: 4, created: true };
}

function search(query: string, f: B.ListFilter): B.SearchHit[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const hits: B.SearchHit[] = [];
  for (const i of filtered(f)) {
    const text = [i.title, i.tags.join(' '), i.case?.presenting, i.case?.ask, i.question?.body, i.protocol?.body]
      .filter(Boolean).join(' ');
    const lower = text.toLowerCase();
    if (!words.every((w) => lower.includes(w))) continue;
    let snippet = text.slice(0, 160);
    for (const w of words) snippet = snippet.replace(new RegExp(`(${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`, 'ig'), '«$1»');
    hits.push({ ...row(i), snippet, score: -words.length });
  }
  return hits.slice(0, f.limit ?? 20);
}

function filtered(f: B.ListFilter) {
  return [...state.items.values()]
    .filter((i) => (!f.community || i.community === f.community) && (!f.kind || i.kind === f.kind) && (!f.tag || i.tags.includes(f.tag)))
    .filter((i) => !f.status || statusOf(i) === f.status)
    .sort((a, b) => b.updated_at - a.updated_at);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args = any;

/**
 * A stand-in for the Rust scanner (crates/outpost-scan), enough to drive
 * the before-sharing flow in browser tests: titled names, NHS-style
 * numbers and dd/mm/yyyy dates. Offsets are UTF-16, as the real command's.
 */
function mockScan(text: string): B.TextFinding[] {
  const rules: [RegExp, B.Category, string, number][] = [
    [/\b(?:Mrs|Mr|Ms|Dr|Sra\.|Sr\.)\s+([A-Z][a-záéíóúñ]+)/g, 'name', '[NAME]', 1],
    [/\b\d{3} \d{3} \d{4}\b/g, 'nhs_number', '[NHS NUMBER]', 0],
    [/\b\d{2}\/\d{2}\/\d{4}\b/g, 'date', '[DATE]', 0],
  ];
  const out: B.TextFinding[] = [];
  for (const [re, category, redaction, group] of rules) {
    for (const m of text.matchAll(re)) {
      const whole = m[0];
      const part = m[group];
      const start = (m.index ?? 0) + whole.indexOf(part);
      out.push({ start, end: start + part.length, category, text: part, redaction });
    }
  }
  return out.sort((x, y) => x.start - y.start);
}

function handle(cmd: string, a: Args): unknown {
  switch (cmd) {
    case 'app_state':
      return { me: state.me, communities: state.communities.map(communityRow), locked: false, ask_passphrase: false, lock: state.me ? 'passphrase' : null } satisfies B.AppInfo;
    case 'unlock':
      return handle('app_state', {});
    case 'scan_text':
      return (a.texts as string[]).map(mockScan);
    case 'init_profile': {
      need(a.profile.name, 'name');
      state.me = { id: 'a'.repeat(64), ...a.profile, home: '/home/clinician/.local/share/outpost' };
      return state.me;
    }
    case 'set_profile':
      need(a.profile.name, 'name');
      state.me = { ...state.me!, ...a.profile };
      return state.me;
    case 'create_community': {
      need(a.community.name, 'name');
      need(a.community.domain, 'domain');
      const c: B.Community = { id: newId(), name: a.community.name, domain: a.community.domain, charter: a.community.charter ?? '',
        created_by: state.me!.id, created_at: now(), updated_at: now(), members: [meAsMember('admin')] };
      state.communities.push(c);
      return communityRow(c);
    }
    case 'open_demo':
      return seedDemo();
    case 'join': {
      if (!String(a.ticket).startsWith('outpostinvite')) fail('this is not an Outpost invitation', 'ticket', 'not_an_invitation');
      const d = seedDemo();
      return { community: d.community, name: d.name, docs_in: 5, bytes_in: 14_000 } satisfies B.Joined;
    }
    case 'community': {
      const c = state.communities.find((x) => x.id === a.id) ?? fail(`no community '${a.id}'`);
      return {
        community: c, admin: true,
        members: c.members.map((m) => ({ ...m, you: m.id === state.me?.id })),
        recent: filtered({ community: c.id, kind: null, status: null, tag: null, limit: null }).slice(0, 12).map(row),
      } satisfies B.CommunityView;
    }
    case 'list_items':
      return filtered(a.filter).slice(0, a.filter.limit ?? 50).map(row);
    case 'search':
      return a.query.trim() ? search(a.query, a.filter) : [];
    case 'show': {
      const i = find(a.id);
      const { synced, heads, history: _h, ...item } = i;
      void _h;
      return { ...item, community_name: state.communities.find((c) => c.id === i.community)?.name ?? '', status: statusOf(i), synced, heads, left: [] } satisfies B.ItemDetail;
    }
    case 'history':
      return find(a.id).history;
    case 'create_item': {
      const it = a.item as B.NewItem;
      if (it.kind === 'case') checkShare(a.share, it.title, it.presenting, it.history, it.findings, it.ask);
      if (it.kind === 'question') checkShare(a.share, it.title, it.body);
      if (it.kind === 'protocol') checkShare(a.share, it.title, it.body, it.references.join('\n'));
      return row(createItem(a.community, a.item));
    }
    case 'reply': { checkShare(a.share, a.body); const i = find(a.case); i.replies.push(post(a.body)); touch(i, 'reply'); return { id: i.replies.at(-1)!.id, item_id: i.id, kind: 'reply' }; }
    case 'comment': { checkShare(a.share, a.body); const i = find(a.item); i.comments.push(post(a.body)); touch(i, 'comment'); return { id: i.comments.at(-1)!.id, item_id: i.id, kind: 'comment' }; }
    case 'answer': { checkShare(a.share, a.body); const i = find(a.question); i.answers.push({ ...post(a.body), helpful: [], accepted: false }); touch(i, 'answer'); return { id: i.answers.at(-1)!.id, item_id: i.id, kind: 'answer' }; }
    case 'case_outcome': { checkShare(a.share, a.outcome); const i = find(a.case); need(a.outcome, 'text'); i.case!.outcome = a.outcome; touch(i, 'set outcome'); return row(i); }
    case 'case_status': { const i = find(a.case); i.case!.status = a.status; touch(i, `mark ${a.status}`); return row(i); }
    case 'accept':
    case 'helpful': {
      for (const i of state.items.values()) {
        const ans = i.answers.find((x) => x.id === a.answer);
        if (!ans) continue;
        if (cmd === 'accept') {
          i.answers.forEach((x) => (x.accepted = x.id === ans.id));
          i.question!.accepted_answer = ans.id;
          touch(i, 'accept answer');
          return { id: ans.id, item_id: i.id, kind: 'answer' };
        }
        if (ans.helpful.includes(state.me!.id)) return false;
        ans.helpful.push(state.me!.id);
        touch(i, 'mark helpful');
        return true;
      }
      return fail(`no answer '${a.answer}'`);
    }
    case 'protocol_save': {
      checkShare(a.share, a.body);
      const i = find(a.id);
      need(a.body, 'body');
      i.protocol!.body = a.body;
      touch(i, 'edit body');
      return { body: a.body, heads: i.heads, mine: i.heads, row: row(i) } satisfies B.ProtocolSaved;
    }
    case 'protocol_status': { const i = find(a.id); i.protocol!.status = a.status; touch(i, `mark ${a.status}`); return row(i); }
    case 'protocol_review_date': { const i = find(a.id); i.protocol!.review_date = a.date; touch(i, 'set review date'); return row(i); }
    case 'protocol_add_reference': { checkShare(a.share, a.reference); const i = find(a.id); need(a.reference, 'reference'); i.protocol!.references.push(a.reference); touch(i, 'add reference'); return row(i); }
    case 'members':
      return (state.communities.find((c) => c.id === a.community)?.members ?? []).map((m) => ({ ...m, you: m.id === state.me?.id }));
    case 'member_role': {
      const c = state.communities.find((x) => x.id === a.community)!;
      const m = c.members.find((x) => x.id === a.member) ?? fail(`no member '${a.member}'`);
      m.role = a.role;
      return m.id;
    }
    case 'member_remove': {
      const c = state.communities.find((x) => x.id === a.community)!;
      c.members = c.members.filter((x) => x.id !== a.member);
      return a.member;
    }
    case 'invite': {
      const c = state.communities.find((x) => x.id === a.community) ?? fail('no such community');
      if (a.days !== null && (a.days < 1 || a.days > 90)) fail(`'${a.days}days' is outside 10m to 90days`, 'expires', 'out_of_range', { value: `${a.days}days`, min: '10m', max: '90days' });
      const pending = { id: (++counter).toString(16).padStart(16, '0'), community: c.id, created_at: now(), expires_at: now() + (a.days ?? 7) * 86_400_000 };
      state.invites.push(pending);
      return { ticket: 'outpostinvite' + 'a1b2c3d4e5f6'.repeat(12), id: pending.id, community: c.id, community_name: c.name, expires_at: pending.expires_at } satisfies B.Invitation;
    }
    case 'pending_invites':
      return state.invites.filter((p) => p.community === a.community);
    case 'revoke_invite': {
      const before = state.invites.length;
      state.invites = state.invites.filter((p) => !(p.community === a.community && p.id === a.invitation));
      if (state.invites.length === before) fail(`no item, answer or community with id '${a.invitation}'`, null, 'not_found', { id: a.invitation });
      return null;
    }
    case 'refused_changes':
    case 'forks': {
      const c = state.communities.find((x) => x.id === a.community) ?? fail('no such community');
      if (!c.members.some((m) => m.id === state.me?.id && m.role === 'admin')) fail(`only an admin of community ${c.id} can do that`, null, 'not_admin', { community: c.id });
      const inC = (doc: string) => doc === c.id || state.items.get(doc)?.community === c.id;
      return cmd === 'forks' ? state.forks.filter((f) => inC(f.doc)) : state.refused.filter((r) => inC(r.doc_id));
    }
    case 'connectivity':
      return connectivity();
    case 'set_relay_url':
      if (a.url && !/^https?:\/\/[^\s]+$/.test(a.url)) fail(`'${a.url}' is not a relay URL: relative URL without a base`, 'relay-url', 'not_a_relay_url', { value: a.url, reason: 'relative URL without a base' });
      state.relay = a.url;
      return a.url;
    case 'exchange_info': {
      const c = state.communities.find((x) => x.id === a.community) ?? fail('no such community');
      return {
        device: state.me!.id,
        bundle_path: `/home/gp/Documents/${c.name} 2026-11-20.outpost`,
        markdown_dir: `/home/gp/Documents/${c.name} 2026-11-20 (readable copy)`,
        admin: c.members.some((m) => m.id === state.me?.id && m.role === 'admin'),
      } satisfies B.ExchangeInfo;
    }
    case 'export_bundle': {
      if (!a.path.trim().startsWith('/')) fail('give the full path (or press Choose…)', 'path');
      if ([...a.passphrase].length < 8) fail('a passphrase needs at least 8 characters', 'passphrase', 'weak_passphrase', { min: '8' });
      const c = state.communities.find((x) => x.id === a.community) ?? fail('no such community');
      const documents = 1 + [...state.items.values()].filter((i) => i.community === c.id).length;
      files.set(a.path.trim(), { community: c.id, name: c.name, passphrase: a.passphrase, documents });
      return { community: c.id, name: c.name, documents, bytes: documents * 2100 } satisfies B.ExportSummary;
    }
    case 'import_bundle': {
      const f = files.get(a.path.trim()) ?? fail(`cannot read ${a.path.trim()}: No such file or directory (os error 2); nothing was imported`, 'path');
      if (f.passphrase !== a.passphrase) fail('bundle: wrong passphrase for this bundle; nothing was imported');
      return { community: f.community, name: f.name, documents: f.documents, changed: 0, refused: 0, exported_by: state.me!.id, exported_by_name: state.me!.name, exported_at: now() } satisfies B.ImportSummary;
    }
    case 'export_markdown':
      if (!a.dir.trim().startsWith('/')) fail('give the full path (or press Choose…)', 'dir');
      return 1 + [...state.items.values()].filter((i) => i.community === a.community).length;
    case 'member_add': {
      const c = state.communities.find((x) => x.id === a.community) ?? fail('no such community');
      const id = a.device.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(id)) fail(`'${a.device}' is not a device id`, 'device', 'not_a_device_id', { value: a.device.trim() });
      c.members.push({ id, name: id.slice(0, 10), profession: null, region: null, expertise: [], role: 'member', joined_at: now() });
      return id;
    }
    case 'change_passphrase':
      if (a.current !== state.passphrase) fail('wrong passphrase: it does not unlock this home (nothing was changed)', 'passphrase', 'wrong_passphrase');
      if ([...a.new].length < 8) fail('a passphrase needs at least 8 characters', 'new', 'weak_passphrase', { min: '8' });
      state.passphrase = a.new;
      return null;
    case 'plugin:dialog|save':
    case 'plugin:dialog|open':
      return null;
    default: {
      // A command the app calls that this mock lacks. Rejecting alone would
      // show as an ordinary error message and the test could pass, so it is
      // also thrown uncaught: the page error fails the browser test
      // (e2e.test.mjs asserts there are none). src-tauri/tests/command_drift.rs
      // checks the same statically, against ui/src/lib/api.ts.
      const e = new Error(`mock backend (ui/src/mock/backend.ts): no case for the command '${cmd}'`);
      setTimeout(() => { throw e; });
      throw e;
    }
  }
}

export function installMockBackend() {
  mockIPC((cmd, args) => handle(cmd, args ?? {}), { shouldMockEvents: true });
  // Hooks for the browser tests: another member's change arriving.
  (window as unknown as { __outpost: unknown }).__outpost = {
    state,
    async peerAddsCase(title: string) {
      const c = state.communities[0];
      const i = createItem(c.id, { kind: 'case', title, presenting: 'Arrived from a peer.', ask: 'Thoughts?', age_band: null, sex: null, setting: null, history: null, findings: null, tags: [] }, { id: 'b'.repeat(64), name: 'Dr Amina Okafor' });
      await emit('outpost://changed', { docs: [{ community: c.id, doc: i.id }] } satisfies B.Changed);
      return i.id;
    },
    async peerEditsProtocol(id: string, prefix: string) {
      const i = find(id);
      i.protocol!.body = prefix + i.protocol!.body;
      i.heads = [newId()];
      await emit('outpost://changed', { docs: [{ community: i.community, doc: i.id }] } satisfies B.Changed);
    },
  };
}
