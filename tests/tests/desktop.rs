#![allow(clippy::unwrap_used)]
//! The real desktop app in a real window (Xvfb + tauri-driver +
//! WebKitWebDriver): the first-run flow, a case created, found by search
//! and listed; two apps on two homes syncing over loopback; and a home
//! locked with a passphrase, unlocked in the app, with a case checked for
//! identifiers before it is shared; a site with no link joining, replying
//! and answering back by USB-stick bundles; the passphrase changed in
//! Settings while the sync node runs.

use outpost_tests::Home;
use outpost_tests::desktop::{App, Display};
use std::sync::Mutex;
use std::time::Duration;

/// One real app session at a time: three WebKit instances at once on a
/// small CI machine starve each other (WebKitWebDriver was seen to drop its
/// connections under that load).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Types a wrong passphrase into `field` and presses `button`: refused at
/// the field; then the test passphrase, and presses it again.
fn wrong_then_right(app: &App, field: &str, button: &str) {
    app.type_into(field, "not the passphrase").unwrap();
    app.click_button(button).unwrap();
    // The backend's code, read through the locale file.
    app.wait_for_text("main", "Wrong passphrase", Duration::from_secs(30))
        .unwrap();
    app.screenshot(&format!("wrong-passphrase-{}", &field[1..]))
        .unwrap();
    app.clear(field).unwrap();
    app.type_into(field, outpost_tests::TEST_PASSPHRASE)
        .unwrap();
    app.click_button(button).unwrap();
}

#[test]
fn create_a_case_find_it_in_search_and_see_it_in_the_list() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let display = Display::start().unwrap();
    let home = Home::new();
    let app = App::launch(&display, home.path(), "first-run").unwrap();

    // First run: profile, then a new community.
    app.type_into("#profile-name", "Dr Ana Ruiz").unwrap();
    app.type_into("#profile-profession", "Rural GP").unwrap();
    app.click_button("Create my profile").unwrap();
    app.click_button("Create a community").unwrap();
    app.type_into("#community-name", "Highlands Primary Care")
        .unwrap();
    app.type_into("#community-domain", "General practice far from a hospital")
        .unwrap();
    app.click_button("Create community").unwrap();
    app.wait_for_text("main h1", "Highlands Primary Care", Duration::from_secs(20))
        .unwrap();
    app.screenshot("community-home").unwrap();

    // Present a case through the structured form.
    // A hostile payload rides along: it must render inert.
    app.present_case(
        "Wheeze in a shearer",
        "Adult with recurrent wheeze during lanolin exposure season. \
         <img src=x onerror=\"window.__pwned = 1\"><script>window.__pwned = 2</script>\
         [link](javascript:window.__pwned=3)",
        "Occupational asthma work-up without spirometry?",
        "asthma, occupational",
    )
    .unwrap();
    app.wait_for_text("main h1", "Wheeze in a shearer", Duration::from_secs(20))
        .unwrap();
    app.screenshot("case-view").unwrap();
    let pwned = app
        .session
        .execute("return window.__pwned ?? null", vec![])
        .unwrap();
    assert!(pwned.is_null(), "member content ran script: {pwned}");
    let active = app
        .session
        .execute(
            "return document.querySelectorAll('main script, main [onerror], main a[href^=\"javascript\"]').length",
            vec![],
        )
        .unwrap();
    assert_eq!(active, 0);
    // And the CSP itself: an inline script injected into the page is refused.
    let inline = app
        .session
        .execute(
            "const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; \
             document.body.append(s); return window.__inline ?? null",
            vec![],
        )
        .unwrap();
    assert!(inline.is_null(), "the CSP let an inline script run");

    // Search as you type finds it by a word from its body.
    app.click_button("Search").unwrap();
    app.type_into("#search-input", "lanolin").unwrap();
    app.wait_for_text(
        "[data-testid=search-results]",
        "Wheeze in a shearer",
        Duration::from_secs(10),
    )
    .unwrap();
    let mark = app.text("[data-testid=search-results] mark").unwrap();
    assert_eq!(mark.to_lowercase(), "lanolin");
    app.screenshot("search").unwrap();

    // And the cases list shows it.
    app.click_button("Cases").unwrap();
    app.wait_for_text(
        "[data-testid=item-list]",
        "Wheeze in a shearer",
        Duration::from_secs(10),
    )
    .unwrap();
    app.screenshot("cases-list").unwrap();

    // A question with an answer and none accepted (asked and answered
    // from the CLI beside the running app) is found by the status filter.
    let community = home.json(&["community", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let q = home.json(&[
        "question",
        "ask",
        "--community",
        &community,
        "--title",
        "Spacer technique for toddlers?",
        "--body",
        "Mask or mouthpiece under four?",
    ]);
    let qid = q["id"].as_str().unwrap().to_string();
    home.json(&["answer", &qid, "Mask until about four."]);
    app.click_button("Questions").unwrap();
    let pick = |status: &str| {
        app.session
            .execute(
                "const s = document.querySelector('#list-status'); s.value = arguments[0]; \
                 s.dispatchEvent(new Event('change', { bubbles: true })); return s.value",
                vec![serde_json::json!(status)],
            )
            .unwrap()
    };
    assert_eq!(pick("answered"), "answered");
    app.wait_for_text(
        "[data-testid=item-list]",
        "Spacer technique for toddlers?",
        Duration::from_secs(10),
    )
    .unwrap();
    app.screenshot("questions-answered").unwrap();
    app.quit();

    // It is in the real store, as the CLI sees it.
    let listed = home.json(&["list", "--kind", "case"]);
    let titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["title"].as_str())
        .collect();
    assert_eq!(titles, ["Wheeze in a shearer"]);
}

#[test]
fn a_case_created_in_one_app_appears_in_the_others_open_list() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let display = Display::start().unwrap();
    let (a, b) = (Home::new(), Home::new());
    a.json(&["init", "--name", "Dr Ana Ruiz"]);
    b.json(&["init", "--name", "Tomás Herrera"]);
    let community = a.json(&[
        "community",
        "create",
        "Sierra Emergency Network",
        "--domain",
        "Emergencies far from a hospital",
    ]);
    let community = community["id"].as_str().unwrap().to_string();

    let app_a = App::launch(&display, a.path(), "peer-a").unwrap();
    app_a.click_button("Cases").unwrap();
    app_a.text("[data-testid=item-list]").unwrap();

    // A's app runs the sync node; an invitation points at it. B joins
    // through it with the CLI, then opens its own app.
    let mut ticket = None;
    for _ in 0..100 {
        let out = a.run(&["--json", "invite", "--community", &community]);
        if out.status.success() {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            ticket = v["ticket"].as_str().map(str::to_string);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ticket = ticket.expect("A's app never published its node address");
    b.json(&["join", &ticket, "--bind", "127.0.0.1:0", "--no-mdns"]);

    let app_b = App::launch(&display, b.path(), "peer-b").unwrap();
    app_b
        .wait_for_text(
            "main h1",
            "Sierra Emergency Network",
            Duration::from_secs(20),
        )
        .unwrap();
    app_b
        .present_case(
            "Scorpion sting, child, 40 km out",
            "School-age child stung on the hand an hour ago.",
            "Observe locally or transfer?",
            "",
        )
        .unwrap();
    app_b
        .wait_for_text("main h1", "Scorpion sting", Duration::from_secs(20))
        .unwrap();

    // A's list, open all along, shows it without any reload or click.
    let took = app_a
        .wait_for_text(
            "[data-testid=item-list]",
            "Scorpion sting, child, 40 km out",
            Duration::from_secs(30),
        )
        .unwrap();
    eprintln!("the case reached A's open list {took:?} after B shared it");
    app_a.screenshot("peer-a-list").unwrap();
    // And B's copy is marked synced once A has it.
    app_b
        .wait_for_text("main", "Synced", Duration::from_secs(30))
        .unwrap();
    app_b.screenshot("peer-b-case").unwrap();
    app_a.quit();
    app_b.quit();
}

#[test]
fn a_locked_home_asks_for_its_passphrase_and_cases_are_checked_before_sharing() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let display = Display::start().unwrap();
    let home = Home::new();
    home.init_with_community("Dr Rees");
    // No OUTPOST_PASSPHRASE and no keychain: the app asks.
    let app = App::launch_with(&display, home.path(), "unlock", None).unwrap();
    app.wait_for_text("main h1", "Unlock Outpost", Duration::from_secs(30))
        .unwrap();
    wrong_then_right(&app, "#unlock-passphrase", "Unlock");
    app.wait_for_text("main h1", "Rural emergencies", Duration::from_secs(30))
        .unwrap();

    // The real scanner, before a case is shared.
    app.present_case(
        "Chest pain at the quarry",
        "Mrs Okafor, DOB 04/09/1931, central chest pain for 2 hours, BP 150/90.",
        "Thrombolyse before transfer?",
        "",
    )
    .unwrap();
    app.wait_for_text(
        "#case-identifiers",
        "Possible patient identifiers",
        Duration::from_secs(20),
    )
    .unwrap();
    let marks = app.texts("#case-identifiers mark").unwrap();
    assert_eq!(
        marks,
        vec!["Okafor", "04/09/1931"],
        "highlighted: {marks:?}"
    );
    app.screenshot("identifiers").unwrap();
    app.click_button("Redact all").unwrap();
    let want = "Mrs [NAME], DOB [DATE], central chest pain for 2 hours, BP 150/90.";
    let start = std::time::Instant::now();
    loop {
        let presenting = app
            .session
            .execute(
                "return document.querySelector('#case-presenting').value",
                vec![],
            )
            .unwrap();
        if presenting == want {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "presenting is {presenting}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    app.click_button("Share case").unwrap();
    app.wait_for_text(
        "main h1",
        "Chest pain at the quarry",
        Duration::from_secs(20),
    )
    .unwrap();
    app.wait_for_text("main", "Mrs [NAME], DOB [DATE]", Duration::from_secs(5))
        .unwrap();
    app.quit();
}

#[test]
fn a_site_with_no_link_joins_and_answers_by_usb_stick() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let stick = tempfile::tempdir().unwrap();
    let to_b = stick.path().join("from the hospital.outpost");
    let to_a = stick.path().join("from the island.outpost");
    // The hospital (CLI): a community with a case, the island's computer
    // added by the id read over the phone, then a bundle on the stick.
    let a = Home::new();
    let c = a.init_with_community("Dr Rees");
    a.json(&[
        "case",
        "add",
        "--community",
        &c,
        "--title",
        "Snakebite at the dam",
        "--presenting",
        "Fang marks on the left ankle, swelling to mid-calf.",
        "--ask",
        "Antivenom before the flight?",
    ]);
    let b = Home::new();
    b.json(&["init", "--name", "Nurse Diaz"]);
    let b_id = b.json(&["whoami"])["id"].as_str().unwrap().to_string();
    a.json(&["member", "add", "--community", &c, &b_id]);
    let out = a.export_bundle(&c, &to_b, "island stick 2026");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The island (the app): joins from the stick on its first screen.
    let display = Display::start().unwrap();
    let app = App::launch(&display, b.path(), "usb").unwrap();
    app.click_button("Join by USB stick").unwrap();
    app.wait_for_text("[data-testid=device-id]", &b_id, Duration::from_secs(20))
        .unwrap();
    app.type_into("#import-path", to_b.to_str().unwrap())
        .unwrap();
    app.type_into("#import-passphrase", "not the passphrase")
        .unwrap();
    app.click_button("Open and merge").unwrap();
    app.wait_for_text("main", "wrong passphrase", Duration::from_secs(30))
        .unwrap();
    app.clear("#import-passphrase").unwrap();
    app.type_into("#import-passphrase", "island stick 2026")
        .unwrap();
    app.click_button("Open and merge").unwrap();
    app.wait_for_text("main h1", "Rural emergencies", Duration::from_secs(30))
        .unwrap();
    app.wait_for_text("main", "Snakebite at the dam", Duration::from_secs(10))
        .unwrap();

    // A reply, then a bundle back to the hospital and a readable copy.
    app.click_button("Snakebite at the dam").unwrap();
    app.type_into(
        "#reply-body",
        "Pressure immobilisation, then fly: antivenom on arrival.",
    )
    .unwrap();
    app.click_button("Reply").unwrap();
    app.wait_for_text("main", "Pressure immobilisation", Duration::from_secs(20))
        .unwrap();
    app.click_button("USB stick").unwrap();
    app.wait_for_text("main h1", "Exchange by USB stick", Duration::from_secs(20))
        .unwrap();
    app.clear("#export-path").unwrap();
    app.type_into("#export-path", to_a.to_str().unwrap())
        .unwrap();
    app.type_into("#export-passphrase", "back to the hospital")
        .unwrap();
    app.type_into("#export-passphrase-again", "back to the hospital")
        .unwrap();
    app.click_button("Save bundle").unwrap();
    app.wait_for_text(
        "main",
        "documents of Rural emergencies to",
        Duration::from_secs(30),
    )
    .unwrap();
    let readable = stick.path().join("readable");
    app.clear("#markdown-dir").unwrap();
    app.type_into("#markdown-dir", readable.to_str().unwrap())
        .unwrap();
    app.click_button("Write readable copy").unwrap();
    app.wait_for_text("main", "files in /", Duration::from_secs(20))
        .unwrap();
    app.screenshot("usb-stick").unwrap();
    app.quit();
    assert!(readable.join("README.md").is_file());

    // The hospital opens the island's bundle: the reply arrives.
    let out = a.import_bundle(&to_a, "back to the hospital");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits = a.json(&["search", "immobilisation"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(1), "{hits}");
}

#[test]
fn the_passphrase_is_changed_in_settings_and_sync_keeps_running() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let display = Display::start().unwrap();
    let home = Home::new();
    home.init_with_community("Dr Rees");
    let app = App::launch(&display, home.path(), "rekey").unwrap();
    app.wait_for_text("main h1", "Rural emergencies", Duration::from_secs(30))
        .unwrap();
    app.click_button("Settings").unwrap();
    app.type_into("#rekey-new", "a new passphrase for the clinic")
        .unwrap();
    app.type_into("#rekey-new-again", "a new passphrase for the clinic")
        .unwrap();
    wrong_then_right(&app, "#rekey-passphrase", "Change passphrase");
    app.wait_for_text("main", "Passphrase changed", Duration::from_secs(30))
        .unwrap();
    app.screenshot("passphrase-changed").unwrap();
    // The app goes on working on the re-encrypted store, its sync node
    // restarted beside it.
    app.click_button("Community home").unwrap();
    app.present_case(
        "After the key change",
        "Cough for three weeks.",
        "Chest X-ray first?",
        "",
    )
    .unwrap();
    app.wait_for_text("main h1", "After the key change", Duration::from_secs(20))
        .unwrap();
    app.click_button("Connectivity").unwrap();
    app.wait_for_text("main", "Sync is running", Duration::from_secs(30))
        .unwrap();
    app.quit();

    let old = home.run(&["list"]);
    assert!(!old.status.success(), "the old passphrase still opens it");
    let out = home
        .command(&["--json", "list"])
        .env("OUTPOST_PASSPHRASE", "a new passphrase for the clinic")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("After the key change"));
}

#[test]
fn with_an_os_keychain_first_run_asks_for_no_passphrase() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let keychain = outpost_tests::keychain::SecretService::start();
    let display = Display::start().unwrap();
    let home = Home::new();
    let mut env = keychain.env();
    env.push(("OUTPOST_KEYCHAIN".into(), "on".into()));
    let app = App::launch_env(&display, home.path(), "keychain", &env).unwrap();
    app.type_into("#profile-name", "Dr Ana Ruiz").unwrap();
    assert!(
        app.texts("#profile-passphrase").unwrap().is_empty(),
        "a passphrase was asked for with a working keychain"
    );
    app.click_button("Create my profile").unwrap();
    app.click_button("Open the demo community").unwrap();
    app.wait_for_text(
        "main h1",
        "Remote & Rural Emergency Care",
        Duration::from_secs(30),
    )
    .unwrap();
    app.click_button("Settings").unwrap();
    app.wait_for_text(
        "main",
        "keychain holds Outpost's key",
        Duration::from_secs(20),
    )
    .unwrap();
    app.quit();
    // The key went into the keychain: the CLI opens the home without a
    // passphrase through it, and not without it.
    let header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("home.json")).unwrap()).unwrap();
    assert_eq!(header["key"]["source"], "keychain");
    let out = keychain.run(&home, &["list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!home.run(&["list"]).status.success());
}
