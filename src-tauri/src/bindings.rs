//! TypeScript declarations of every type that crosses the IPC bridge,
//! generated from the Rust types with ts-rs and committed as
//! `ui/src/lib/bindings.ts`. The test below fails when the two drift;
//! `OUTPOST_UPDATE_BINDINGS=1 cargo test -p outpost-desktop bindings`
//! rewrites the file.

use ts_rs::{Config, TS};

/// Where the generated file lives, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/lib/bindings.ts";

macro_rules! declare {
    ($cfg:expr, $out:expr, $($t:ty),+ $(,)?) => {
        $( $out.push(format!("export {}", <$t as TS>::decl($cfg))); )+
    };
}

/// `export const NAME: Type[] = [...]` for every value of a Rust enum, so
/// the UI's pickers and filters list exactly what the backend accepts.
fn values<T: Copy + serde::Serialize>(name: &str, ty: &str, all: &[T]) -> String {
    let list: Vec<String> = all
        .iter()
        .map(|v| serde_json::to_string(v).unwrap_or_default())
        .collect();
    format!("export const {name}: {ty}[] = [{}];", list.join(", "))
}

/// The whole file, as it should read.
pub fn render() -> String {
    use outpost_core as c;
    let cfg = &Config::new().with_large_int("number");
    let mut decls: Vec<String> = Vec::new();
    declare!(
        cfg,
        decls,
        c::CommunityId,
        c::DocId,
        c::PostId,
        c::DeviceId,
        c::Kind,
        c::AgeBand,
        c::Sex,
        c::Setting,
        c::CaseStatus,
        c::QuestionStatus,
        c::ProtocolStatus,
        c::ItemStatus,
        c::PostKind,
        c::Role,
        c::Sharing,
        c::MemberProfile,
        c::NewCommunity,
        c::NewCase,
        c::NewQuestion,
        c::NewProtocol,
        c::NewItem,
        c::Post,
        c::Answer,
        c::CaseFields,
        c::QuestionFields,
        c::ProtocolFields,
        c::Item,
        c::Member,
        c::Community,
        c::HistoryEntry,
        c::ItemRow,
        c::SearchHit,
        c::CommunityRow,
        c::ListFilter,
        c::PeerRow,
        c::Whoami,
        c::PostRef,
        c::ItemDetail,
        c::ProtocolSaved,
        c::HistoryLine,
        c::MemberInfo,
        c::DemoSummary,
        c::SyncProgress,
        c::PeerView,
        c::Connectivity,
        c::ChangedDoc,
        c::Joined,
        c::Invitation,
        c::PendingInvite,
        c::RefusedChange,
        c::ForkRow,
        c::Category,
        c::TextFinding,
        c::ExportSummary,
        c::ImportSummary,
        c::LockKind,
        crate::UiError,
        crate::Changed,
        crate::commands::AppInfo,
        crate::commands::CommunityView,
        crate::commands::ExchangeInfo,
    );
    let l = |name: &str, v: usize| format!("  {name}: {v},");
    let limits = [
        "/** Field limits the backend enforces (outpost-model's `limits`). */".to_string(),
        "export const LIMITS = {".to_string(),
        l("name", c::limits::NAME),
        l("title", c::limits::TITLE),
        l("short", c::limits::SHORT),
        l("domain", c::limits::DOMAIN),
        l("text", c::limits::TEXT),
        l("protocolBody", c::limits::PROTOCOL_BODY),
        l("tag", c::limits::TAG),
        l("tags", c::limits::TAGS),
        l("reference", c::limits::REFERENCE),
        l("minPassphrase", c::MIN_PASSPHRASE),
        "} as const;".to_string(),
    ]
    .join("\n");
    let consts = [
        values("KINDS", "Kind", c::Kind::ALL),
        values("AGE_BANDS", "AgeBand", c::AgeBand::ALL),
        values("SEXES", "Sex", c::Sex::ALL),
        values("SETTINGS", "Setting", c::Setting::ALL),
        values("ROLES", "Role", c::Role::ALL),
        values("CASE_STATUSES", "CaseStatus", c::CaseStatus::ALL),
        values(
            "QUESTION_STATUSES",
            "QuestionStatus",
            c::QuestionStatus::ALL,
        ),
        values(
            "PROTOCOL_STATUSES",
            "ProtocolStatus",
            c::ProtocolStatus::ALL,
        ),
        "/** The statuses an item of each kind can have, in filter order. */\n\
         export const STATUSES: Record<Kind, ItemStatus[]> = { case: CASE_STATUSES, question: QUESTION_STATUSES, protocol: PROTOCOL_STATUSES };"
            .to_string(),
        limits,
    ];
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs).\n\
         // Do not edit: run `OUTPOST_UPDATE_BINDINGS=1 cargo test -p outpost-desktop bindings`.\n\n",
    );
    for d in decls.iter().chain(consts.iter()) {
        out.push_str(d.trim_end());
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bindings_match_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH);
        let want = render();
        if std::env::var("OUTPOST_UPDATE_BINDINGS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date with the Rust types; regenerate it with \
             `OUTPOST_UPDATE_BINDINGS=1 cargo test -p outpost-desktop bindings`",
            path.display()
        );
    }
}
