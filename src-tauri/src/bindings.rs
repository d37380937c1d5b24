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

/// The whole file, as it should read.
pub fn render() -> String {
    use outpost_core::model as m;
    use outpost_core::store as s;
    let cfg = &Config::new().with_large_int("number");
    let mut decls: Vec<String> = Vec::new();
    declare!(
        cfg,
        decls,
        m::Kind,
        m::AgeBand,
        m::Sex,
        m::Setting,
        m::CaseStatus,
        m::ProtocolStatus,
        m::Role,
        m::MemberProfile,
        m::NewCommunity,
        m::NewCase,
        m::NewQuestion,
        m::NewProtocol,
        m::NewItem,
        m::Post,
        m::Answer,
        m::CaseFields,
        m::QuestionFields,
        m::ProtocolFields,
        m::Item,
        m::Member,
        m::Community,
        m::HistoryEntry,
        s::ItemRow,
        s::SearchHit,
        s::CommunityRow,
        s::ListFilter,
        s::PeerRow,
        outpost_core::Whoami,
        outpost_core::PostRef,
        outpost_core::ItemDetail,
        outpost_core::ProtocolSaved,
        outpost_core::HistoryLine,
        outpost_core::MemberInfo,
        outpost_core::DemoSummary,
        outpost_core::SyncProgress,
        outpost_core::PeerView,
        outpost_core::Connectivity,
        crate::UiError,
        crate::Changed,
        crate::ChangedDoc,
        crate::commands::AppInfo,
        crate::commands::CommunityView,
        crate::commands::JoinResult,
        crate::commands::InviteView,
        outpost_core::scan::Category,
        crate::commands::TextFinding,
        outpost_core::ExportSummary,
        outpost_core::ImportSummary,
        crate::commands::ExchangeInfo,
        outpost_core::LockKind,
    );
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs).\n\
         // Do not edit: run `OUTPOST_UPDATE_BINDINGS=1 cargo test -p outpost-desktop bindings`.\n\n",
    );
    for d in decls {
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
