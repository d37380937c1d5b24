//! The OS keychain path with a real Secret Service
//! ([`outpost_tests::keychain::SecretService`]) and the real `outpost`
//! binary.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_tests::Home;
use outpost_tests::keychain::SecretService;
use serde_json::Value;
use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn key_source(home: &Home) -> Value {
    let header: Value =
        serde_json::from_slice(&std::fs::read(home.path().join("home.json")).unwrap()).unwrap();
    header["key"]["source"].clone()
}

fn titles(service: &SecretService, home: &Home, passphrase: Option<&str>) -> Output {
    let mut c = service.outpost(home, &["--json", "list"]);
    if let Some(p) = passphrase {
        c.env("OUTPOST_PASSPHRASE", p);
    }
    c.output().unwrap()
}

#[test]
fn a_home_keyed_in_the_os_keychain_opens_without_a_passphrase() {
    let service = SecretService::start();
    let home = Home::new();
    // Set up with no passphrase: the key goes into the keychain.
    let out = service.run(&home, &["init", "--name", "Dr Keychain"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(key_source(&home), "keychain");
    let out = service.run(
        &home,
        &[
            "--json",
            "community",
            "create",
            "Valley GPs",
            "--domain",
            "General practice",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let community: Value = serde_json::from_slice(&out.stdout).unwrap();
    let community = community["id"].as_str().unwrap().to_string();
    let out = service.run(
        &home,
        &[
            "case",
            "add",
            "--community",
            &community,
            "--title",
            "Wheeze in a shearer",
            "--presenting",
            "Recurrent wheeze at shearing time.",
            "--ask",
            "Occupational asthma?",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = titles(&service, &home, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Wheeze in a shearer"));
    let db = std::fs::read(home.path().join("outpost.db")).unwrap();
    assert!(
        !db.windows(7).any(|w| w == b"shearer"),
        "case text in the clear"
    );

    // The keychain turned off: a clear error, nothing changed.
    let before = std::fs::read(home.path().join("home.json")).unwrap();
    let out = service
        .outpost(&home, &["list"])
        .env("OUTPOST_KEYCHAIN", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("keychain"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(home.path().join("home.json")).unwrap(),
        before
    );

    // Out of the keychain into a passphrase, and back.
    let out = service
        .outpost(&home, &["rekey"])
        .env("OUTPOST_NEW_PASSPHRASE", "a passphrase for the laptop")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(key_source(&home), "passphrase");
    let out = titles(&service, &home, None);
    assert!(!out.status.success(), "opened without its new passphrase");
    let out = titles(&service, &home, Some("a passphrase for the laptop"));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = service
        .outpost(&home, &["rekey", "--keychain"])
        .env("OUTPOST_PASSPHRASE", "a passphrase for the laptop")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(key_source(&home), "keychain");
    let out = titles(&service, &home, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Wheeze in a shearer"));
}
