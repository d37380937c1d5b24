// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs).
// Do not edit: run `OUTPOST_UPDATE_BINDINGS=1 cargo test -p outpost-desktop bindings`.

export type CommunityId = string;

export type DocId = string;

export type PostId = string;

export type DeviceId = string;

export type Kind = "case" | "question" | "protocol";

export type AgeBand = "0-28d" | "1-11m" | "1-4" | "5-11" | "12-17" | "18-29" | "30-44" | "45-64" | "65-79" | "80-89" | "90+";

export type Sex = "female" | "male" | "intersex" | "unknown";

export type Setting = "clinic" | "home-visit" | "emergency" | "inpatient" | "outreach" | "telehealth" | "transfer" | "other";

export type CaseStatus = "open" | "resolved";

export type QuestionStatus = "unanswered" | "answered" | "accepted";

export type ProtocolStatus = "draft" | "endorsed" | "superseded";

export type ItemStatus = CaseStatus | QuestionStatus | ProtocolStatus;

export type PostKind = "reply" | "answer" | "comment";

export type Role = "member" | "admin";

export type Sharing = "checked" | "as_written";

export type MemberProfile = { name: string, profession: string | null, region: string | null, expertise: Array<string>, };

export type NewCommunity = { name: string, domain: string, charter: string | null, };

export type NewCase = { title: string, presenting: string, ask: string, age_band: AgeBand | null, sex: Sex | null, setting: Setting | null, history: string | null, findings: string | null, tags: Array<string>, };

export type NewQuestion = { title: string, body: string, tags: Array<string>, };

export type NewProtocol = { title: string, body: string, review_date: string | null, references: Array<string>, tags: Array<string>, };

export type NewItem = { "kind": "case" } & NewCase | { "kind": "question" } & NewQuestion | { "kind": "protocol" } & NewProtocol;

export type Post = { id: PostId, author: DeviceId, author_name: string, created_at: number, body: string, };

export type Answer = { 
/**
 * Actor ids (hex) of the members who marked this answer helpful.
 */
helpful: Array<DeviceId>, accepted: boolean, id: PostId, author: DeviceId, author_name: string, created_at: number, body: string, };

export type CaseFields = { age_band: AgeBand | null, sex: Sex | null, setting: Setting | null, presenting: string, history: string, findings: string, ask: string, outcome: string, status: CaseStatus, };

export type QuestionFields = { body: string, accepted_answer: PostId | null, };

export type ProtocolFields = { body: string, status: ProtocolStatus, review_date: string | null, references: Array<string>, };

export type Item = { id: DocId, kind: Kind, community: CommunityId, title: string, author: DeviceId, author_name: string, created_at: number, updated_at: number, tags: Array<string>, case?: CaseFields, question?: QuestionFields, protocol?: ProtocolFields, replies: Array<Post>, answers: Array<Answer>, comments: Array<Post>, };

export type Member = { id: DeviceId, name: string, profession: string | null, region: string | null, expertise: Array<string>, role: Role, joined_at: number, };

export type Community = { id: CommunityId, name: string, domain: string, charter: string, created_by: DeviceId, created_at: number, updated_at: number, 
/**
 * Profiles members published. Who *is* a member, and with which role,
 * is decided by the signed membership log (see
 * `outpost_sync::membership`).
 */
members: Array<Member>, };

export type HistoryEntry = { hash: string, actor: string, 
/**
 * Unix seconds, as recorded by the author's clock.
 */
time: number, message: string, };

export type ItemRow = { id: DocId, kind: Kind, community: CommunityId, title: string, status: ItemStatus, author: DeviceId, author_name: string, tags: Array<string>, 
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
score: number, id: DocId, kind: Kind, community: CommunityId, title: string, status: ItemStatus, author: DeviceId, author_name: string, tags: Array<string>, 
/**
 * Replies, answers and comments.
 */
responses: number, created_at: number, updated_at: number, 
/**
 * Every change held here has reached at least one other member.
 */
synced: boolean, };

export type CommunityRow = { id: CommunityId, name: string, domain: string, members: number, items: number, created_at: number, updated_at: number, };

export type ListFilter = { community: CommunityId | null, kind: Kind | null, 
/**
 * Only items with this status (which also implies its kind).
 */
status: ItemStatus | null, tag: string | null, limit: number | null, };

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

export type Whoami = { 
/**
 * The device id (hex ed25519 public key): what an admin adds by hand.
 */
id: DeviceId, 
/**
 * The home folder.
 */
home: string, name: string, profession: string | null, region: string | null, expertise: Array<string>, };

export type PostRef = { 
/**
 * The post's id.
 */
id: PostId, 
/**
 * The item it is in.
 */
item_id: DocId, 
/**
 * Reply, answer or comment.
 */
kind: PostKind, };

export type ItemDetail = { 
/**
 * The name of its community.
 */
community_name: string, 
/**
 * Its status.
 */
status: ItemStatus, 
/**
 * Every change held here has reached at least one other member.
 */
synced: boolean, 
/**
 * The document's heads (hex) as read: an editor's base for
 * [`Outpost::protocol_save`].
 */
heads: Array<string>, 
/**
 * Those of the item's author and posters who have been removed from
 * the community (what they wrote stays, marked as theirs).
 */
left: Array<DeviceId>, id: DocId, kind: Kind, community: CommunityId, title: string, author: DeviceId, author_name: string, created_at: number, updated_at: number, tags: Array<string>, case?: CaseFields, question?: QuestionFields, protocol?: ProtocolFields, replies: Array<Post>, answers: Array<Answer>, comments: Array<Post>, };

export type ProtocolSaved = { 
/**
 * The body after merging.
 */
body: string, 
/**
 * The document's heads after the save (hex).
 */
heads: Array<string>, 
/**
 * The heads of the save alone: the base of the editor's next save.
 */
mine: Array<string>, 
/**
 * The protocol's list row.
 */
row: ItemRow, };

export type HistoryLine = { 
/**
 * Who made it, by display name.
 */
author_name: string, hash: string, actor: string, 
/**
 * Unix seconds, as recorded by the author's clock.
 */
time: number, message: string, };

export type MemberInfo = { 
/**
 * This device.
 */
you: boolean, id: DeviceId, name: string, profession: string | null, region: string | null, expertise: Array<string>, role: Role, joined_at: number, };

export type DemoSummary = { 
/**
 * Its id.
 */
community: CommunityId, 
/**
 * Its name.
 */
name: string, 
/**
 * Items in it.
 */
items: number, 
/**
 * Made now (false: it was already here).
 */
created: boolean, };

export type SyncProgress = { 
/**
 * Documents reconciled.
 */
done: number, 
/**
 * Documents announced.
 */
total: number, };

export type PeerView = { 
/**
 * The peer's device id.
 */
id: DeviceId, 
/**
 * The member's display name, when a shared community has their profile.
 */
name: string | null, 
/**
 * Shares at least one community with this device.
 */
member: boolean, 
/**
 * A session with it is live now.
 */
connected: boolean, 
/**
 * Seen on the LAN (mDNS).
 */
on_lan: boolean, 
/**
 * What this device remembers of it, when it has synced before.
 */
known: PeerRow | null, };

export type Connectivity = { 
/**
 * This device's id.
 */
id: DeviceId, 
/**
 * A background node is running.
 */
online: boolean, 
/**
 * The self-hosted relay in use, if any.
 */
relay_url: string | null, 
/**
 * Known and LAN peers.
 */
peers: Array<PeerView>, 
/**
 * Items with changes no other member has yet.
 */
unsynced_items: number, 
/**
 * Sync progress of the sessions running now.
 */
progress: SyncProgress, };

export type ChangedDoc = { 
/**
 * The community's id.
 */
community: CommunityId, 
/**
 * The document's id (the community's own, or an item's).
 */
doc: string, };

export type Joined = { 
/**
 * The community's id.
 */
community: CommunityId, 
/**
 * Its name.
 */
name: string, 
/**
 * Documents received.
 */
docs_in: number, 
/**
 * Bytes received.
 */
bytes_in: number, };

export type Invitation = { 
/**
 * The ticket to hand the invitee.
 */
ticket: string, 
/**
 * What the invitation is listed and revoked by (not a secret).
 */
id: string, 
/**
 * The community's id.
 */
community: CommunityId, 
/**
 * The community's name.
 */
community_name: string, 
/**
 * When it stops working (ms since the epoch).
 */
expires_at: number, };

export type PendingInvite = { id: string, community: CommunityId, created_at: number, expires_at: number, };

export type RefusedChange = { 
/**
 * The Automerge change hash (hex).
 */
hash: string, doc_id: string, 
/**
 * The actor id the change claims (hex).
 */
actor: string, 
/**
 * The device that actor names, if any (hex).
 */
device: string | null, 
/**
 * Why it was refused.
 */
reason: string, 
/**
 * The peer (or `bundle:<device>`) it came from.
 */
origin: string | null, 
/**
 * When (ms since the epoch).
 */
at: number, };

export type ForkRow = { doc: string, 
/**
 * Hex key of the device that forked.
 */
device: string, seq: number, 
/**
 * Hex key of the member who reported it first.
 */
reporter: string, };

export type Category = "name" | "date" | "age" | "phone" | "email" | "url" | "ip_address" | "postcode" | "address" | "nhs_number" | "medicare_number" | "ssn" | "dni_nie" | "record_number" | "other_id";

export type TextFinding = { 
/**
 * Where it starts (UTF-16 units).
 */
start: number, 
/**
 * Where it ends (UTF-16 units).
 */
end: number, 
/**
 * What kind of identifier it looks like.
 */
category: Category, 
/**
 * The text found.
 */
text: string, 
/**
 * What to put in its place.
 */
redaction: string, };

export type ExportSummary = { 
/**
 * The community's id.
 */
community: CommunityId, 
/**
 * The community's name.
 */
name: string, 
/**
 * Documents written.
 */
documents: number, 
/**
 * Size of the encrypted file.
 */
bytes: number, };

export type ImportSummary = { 
/**
 * The community's id.
 */
community: CommunityId, 
/**
 * The community's name.
 */
name: string, 
/**
 * Documents in the bundle.
 */
documents: number, 
/**
 * Documents that brought something new here.
 */
changed: number, 
/**
 * Changes left out: not validly signed by a member's device (each is
 * listed under the community's refused changes).
 */
refused: number, 
/**
 * The device id of the member who wrote it (its signer).
 */
exported_by: DeviceId, 
/**
 * The exporter's name, as the community knows them.
 */
exported_by_name: string | null, 
/**
 * When it was written (ms since the epoch).
 */
exported_at: number, };

export type LockKind = "keychain" | "passphrase";

export type UiError = { code: string, message: string, field: string | null, params: { [key in string]: string }, };

export type Changed = { docs: Array<ChangedDoc>, };

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

export type ExchangeInfo = { device: DeviceId, bundle_path: string, markdown_dir: string, 
/**
 * This device may add members by id.
 */
admin: boolean, };

export const KINDS: Kind[] = ["case", "question", "protocol"];

export const AGE_BANDS: AgeBand[] = ["0-28d", "1-11m", "1-4", "5-11", "12-17", "18-29", "30-44", "45-64", "65-79", "80-89", "90+"];

export const SEXES: Sex[] = ["female", "male", "intersex", "unknown"];

export const SETTINGS: Setting[] = ["clinic", "home-visit", "emergency", "inpatient", "outreach", "telehealth", "transfer", "other"];

export const ROLES: Role[] = ["member", "admin"];

export const CASE_STATUSES: CaseStatus[] = ["open", "resolved"];

export const QUESTION_STATUSES: QuestionStatus[] = ["unanswered", "answered", "accepted"];

export const PROTOCOL_STATUSES: ProtocolStatus[] = ["draft", "endorsed", "superseded"];

/** The statuses an item of each kind can have, in filter order. */
export const STATUSES: Record<Kind, ItemStatus[]> = { case: CASE_STATUSES, question: QUESTION_STATUSES, protocol: PROTOCOL_STATUSES };

/** Field limits the backend enforces (outpost-model's `limits`). */
export const LIMITS = {
  name: 120,
  title: 200,
  short: 120,
  domain: 2000,
  text: 20000,
  protocolBody: 200000,
  tag: 40,
  tags: 20,
  reference: 500,
  minPassphrase: 8,
} as const;
