fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(outpost_commands())),
    )
    .expect("tauri build step");
}

/// Every command the UI may call. Each becomes an `allow-…` permission;
/// `capabilities/main.json` grants exactly these and nothing else.
fn outpost_commands() -> &'static [&'static str] {
    &[
        "app_state",
        "unlock",
        "init_profile",
        "scan_text",
        "set_profile",
        "create_community",
        "open_demo",
        "join",
        "community",
        "list_items",
        "search",
        "show",
        "history",
        "create_item",
        "reply",
        "case_outcome",
        "case_status",
        "answer",
        "accept",
        "helpful",
        "protocol_save",
        "protocol_status",
        "protocol_review_date",
        "protocol_add_reference",
        "comment",
        "members",
        "member_remove",
        "member_role",
        "invite",
        "connectivity",
        "set_relay_url",
        "exchange_info",
        "export_bundle",
        "import_bundle",
        "export_markdown",
        "member_add",
        "change_passphrase",
    ]
}
