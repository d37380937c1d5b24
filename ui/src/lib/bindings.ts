// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs).
// Do not edit: run `OUTPOST_UPDATE_BINDINGS=1 cargo test -p outpost-desktop bindings`.

export type Kind = "case" | "question" | "protocol";

export type AgeBand = "0-28d" | "1-11m" | "1-4" | "5-11" | "12-17" | "18-29" | "30-44" | "45-64" | "65-79" | "80-89" | "90+";

export type Sex = "female" | "male" | "intersex" | "unknown";

export type Setting = "clinic" | "home-visit" | "emergency" | "inpatient" | "outreach" | "telehealth" | "transfer" | "other";

export type CaseStatus = "open" | "resolved";

export type ProtocolStatus = "draft" | "endorsed" | "superseded";

export type Role = "admin" | "member";

export type MemberProfile = { name: string, profession: string | null, region: string | null, expertise: Array<string>, };

export type NewCommunity = { name: string, domain: string, charter: string | null, };

export type NewCase = { title: string, presenting: string, ask: string, age_band: AgeBand | null, sex: Sex | null, setting: Setting | null, history: string | null, findings: string | null, tags: Array<string>, };

export type NewQuestion = { title: string, body: string, tags: Array<string>, };

export type NewProtocol = { title: string, body: string, review_date: string | null, references: Array<string>, tags: Array<string>, };

export type NewItem = { "kind": "case" } & NewCase | { "kind": "question" } & NewQuestion | { "kind": "protocol" } & NewProtocol;

export type Post = { id: string, author: string, author_name: string, created_at: number, body: string, };

export type Answer = { 
/**
 * Actor ids (hex) of the members who marked this answer helpful.
 */
helpful: Array<string>, accepted: boolean, id: string, author: string, author_name: string, created_at: number, body: string, };

export type CaseFields = { age_band: AgeBand | null, sex: Sex | null, setting: Setting | null, presenting: string, history: string, findings: string, ask: string, outcome: string, status: CaseStatus, };

export type QuestionFields = { body: string, accepted_answer: string | null, };

export type ProtocolFields = { body: string, status: ProtocolStatus, review_date: string | null, references: Array<string>, };

export type Item = { id: string, kind: Kind, community: string, title: string, author: string, author_name: string, created_at: number, updated_at: number, tags: Array<string>, case?: CaseFields, question?: QuestionFields, protocol?: ProtocolFields, replies: Array<Post>, answers: Array<Answer>, comments: Array<Post>, };

export type Member = { id: string, name: string, profession: string | null, region: string | null, expertise: Array<string>, role: Role, joined_at: number, };

export type Community = { id: string, name: string, domain: string, charter: string, created_by: string, created_at: number, updated_at: number, 
/**
 * Profiles members published. Who *is* a member, and with which role,
 * is decided by the signed ops (see `outpost_sync::membership`).
 */
members: Array<Member>, };

export type HistoryEntry = { hash: string, actor: string, 
/**
 * Unix seconds, as recorded by the author's clock.
 */
time: number, message: string, };

export type ItemRow = { id: string, kind: string, community: string, title: string, status: string, author: string, author_name: string, tags: Array<string>, 
/**
 * Replies, answers and comments.
 */
responses: number, created_at: number, updated_at: number, 
/**
 * Every change held here has reached at least one other member.
 */
synced: boolean, };

export type SearchHit = { 
/**
 * A short excerpt with matches between `SNIPPET_START` and `SNIPPET_END`.
 */
snippet: string, 
/**
 * bm25 score: lower is better.
 */
score: number, id: string, kind: string, community: string, title: string, status: string, author: string, author_name: string, tags: Array<string>, 
/**
 * Replies, answers and comments.
 */
responses: number, created_at: number, updated_at: number, 
/**
 * Every change held here has reached at least one other member.
 */
synced: boolean, };

export type CommunityRow = { id: string, name: string, domain: string, members: number, items: number, created_at: number, updated_at: number, };

export type ListFilter = { community: string | null, kind: string | null, tag: string | null, limit: number | null, };

export type PeerRow = { id: string, addr: string | null, last_seen: number | null, last_synced: number | null, bytes_in: number, bytes_out: number, 
/**
 * Documents the peer announced that were not yet reconciled here.
 */
pending_in: number, 
/**
 * Documents of shared communities changed here after the point in
 * this store's feed the peer is known to hold.
 */
pending_out: number, };

export type Whoami = { id: string, home: string, name: string, profession: string | null, region: string | null, expertise: Array<string>, };

export type PostRef = { id: string, item_id: string, kind: string, };

export type ItemDetail = { community_name: string, status: string, 
/**
 * Every change held here has reached at least one other member.
 */
synced: boolean, 
/**
 * The document's heads (hex) as read: an editor's base for
 * [`Outpost::protocol_save`].
 */
heads: Array<string>, id: string, kind: Kind, community: string, title: string, author: string, author_name: string, created_at: number, updated_at: number, tags: Array<string>, case?: CaseFields, question?: QuestionFields, protocol?: ProtocolFields, replies: Array<Post>, answers: Array<Answer>, comments: Array<Post>, };

export type ProtocolSaved = { body: string, heads: Array<string>, mine: Array<string>, row: ItemRow, };

export type HistoryLine = { author_name: string, hash: string, actor: string, 
/**
 * Unix seconds, as recorded by the author's clock.
 */
time: number, message: string, };

export type MemberInfo = { you: boolean, id: string, name: string, profession: string | null, region: string | null, expertise: Array<string>, role: Role, joined_at: number, };

export type DemoSummary = { community: string, name: string, items: number, created: boolean, };

export type SyncProgress = { done: number, total: number, };

export type PeerView = { id: string, 
/**
 * The member's display name, when a shared community has their profile.
 */
name: string | null, 
/**
 * Shares at least one community with this device.
 */
member: boolean, connected: boolean, on_lan: boolean, known: PeerRow | null, };

export type Connectivity = { id: string, 
/**
 * A background node is running.
 */
online: boolean, relay_url: string | null, peers: Array<PeerView>, 
/**
 * Items with changes no other member has yet.
 */
unsynced_items: number, progress: SyncProgress, };

export type UiError = { message: string, field: string | null, };

export type Changed = { docs: Array<ChangedDoc>, };

export type ChangedDoc = { community: string, doc: string, };

export type AppInfo = { 
/**
 * None until the user has created a profile (first run) or, on a home
 * locked with a passphrase, until it is unlocked.
 */
me: Whoami | null, communities: Array<CommunityRow>, 
/**
 * The home is set up but locked: ask for its passphrase.
 */
locked: boolean, 
/**
 * On first run: the user must choose a passphrase (no OS keychain can
 * hold the store key, and `OUTPOST_PASSPHRASE` is not set).
 */
ask_passphrase: boolean, 
/**
 * How the open home is locked.
 */
lock: LockKind | null, };

export type CommunityView = { community: Community, members: Array<MemberInfo>, recent: Array<ItemRow>, 
/**
 * This device may invite and manage members.
 */
admin: boolean, };

export type JoinResult = { community: string, name: string, };

export type InviteView = { ticket: string, community_name: string, expires_at: number, };

export type Category = "name" | "date" | "age" | "phone" | "email" | "url" | "ip_address" | "postcode" | "address" | "nhs_number" | "medicare_number" | "ssn" | "dni_nie" | "record_number" | "other_id";

export type TextFinding = { start: number, end: number, category: Category, text: string, redaction: string, };

export type ExportSummary = { community: string, name: string, documents: number, bytes: number, };

export type ImportSummary = { community: string, name: string, 
/**
 * Documents in the bundle.
 */
documents: number, 
/**
 * Documents that brought something new here.
 */
changed: number, exported_by: string, 
/**
 * The exporter's name, as the community knows them.
 */
exported_by_name: string | null, exported_at: number, };

export type ExchangeInfo = { device: string, bundle_path: string, markdown_dir: string, 
/**
 * This device may add members by id.
 */
admin: boolean, };

export type LockKind = "keychain" | "passphrase";
