//! The hub's embedded relay forwards for members only: a stranger's relay
//! handshake is refused, a member's accepted; while an invitation is open
//! an invitee (a stranger still) may come in, and once it is revoked not.
//! With the operator's certificate it serves TLS, and a member that trusts
//! that certificate connects over HTTPS.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use iroh::SecretKey;
use iroh_relay::client::ClientBuilder;
use iroh_relay::tls::CaTlsConfig;
use outpost_tests::{Peer, join};
use std::time::Duration;

async fn relay_admits(url: &str, secret: [u8; 32], tls: &CaTlsConfig) -> Result<(), String> {
    let url: iroh::RelayUrl = url.parse().unwrap();
    let config = tls
        .client_config(iroh_relay::tls::default_provider())
        .unwrap();
    let builder = ClientBuilder::new(
        url,
        SecretKey::from_bytes(&secret),
        iroh::dns::DnsResolver::new(),
    )
    .tls_client_config(config);
    let connect = builder.connect();
    match tokio::time::timeout(Duration::from_secs(20), connect).await {
        Ok(Ok(_client)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// A hub with community X, and a member of it (joined, then offline).
async fn hub_and_member() -> (Peer, Peer, outpost_core::CommunityId) {
    let (mut a, b) = (Peer::new("Hub"), Peer::new("Dr B"));
    let x = a.community("X");
    let nb = b.node().await;
    let na = a.node().await;
    join(&a, &nb, &x).await;
    na.shutdown().await;
    (a, b, x)
}

fn loopback_relay(tls: Option<outpost_core::RelayTls>) -> outpost_core::RelayOptions {
    outpost_core::RelayOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        tls,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hubs_relay_forwards_for_members_only() {
    let (a, b, x) = hub_and_member().await;
    let hub =
        a.op.start(
            &outpost_net::NetConfig::loopback(),
            Some(loopback_relay(None)),
        )
        .await
        .unwrap();
    let url = hub.relay_url().unwrap();
    let plain = CaTlsConfig::default();
    let stranger = [0x77; 32];
    let member = b.op.signing_key().to_bytes();

    relay_admits(&url, member, &plain).await.unwrap();
    let refused = relay_admits(&url, stranger, &plain).await.unwrap_err();
    assert!(
        refused.to_lowercase().contains("denied") || refused.contains("members"),
        "{refused}"
    );

    // An open invitation lets an invitee (not yet a member) reach the hub.
    let invite = a.op.invite(&x, Some(Duration::from_secs(3600))).unwrap();
    relay_admits(&url, stranger, &plain).await.unwrap();
    a.op.revoke_invite(&x, &invite.id).unwrap();
    assert!(relay_admits(&url, stranger, &plain).await.is_err());
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hubs_relay_serves_tls_with_the_operators_certificate() {
    let (a, b, _x) = hub_and_member().await;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("relay.crt"), dir.path().join("relay.key"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    // A key that is not PEM is refused with a clear error.
    let bad_key = dir.path().join("bad.key");
    std::fs::write(&bad_key, "not a key").unwrap();
    let bad =
        a.op.start(
            &outpost_net::NetConfig::loopback(),
            Some(loopback_relay(Some(outpost_core::RelayTls {
                https_bind: "127.0.0.1:0".parse().unwrap(),
                cert: cert_path.clone(),
                key: bad_key,
            }))),
        )
        .await;
    assert!(bad.is_err_and(|e| e.to_string().contains("key")));

    let hub =
        a.op.start(
            &outpost_net::NetConfig::loopback(),
            Some(loopback_relay(Some(outpost_core::RelayTls {
                https_bind: "127.0.0.1:0".parse().unwrap(),
                cert: cert_path,
                key: key_path,
            }))),
        )
        .await
        .unwrap();
    let url = hub.relay_url().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    let port = url.rsplit(':').next().unwrap().trim_end_matches('/');
    let by_name = format!("https://localhost:{port}");
    let trusted = CaTlsConfig::custom_roots([cert.cert.der().clone()]);
    relay_admits(&by_name, b.op.signing_key().to_bytes(), &trusted)
        .await
        .unwrap();
    // Untrusted (the system's roots do not know this certificate): no.
    assert!(
        relay_admits(
            &by_name,
            b.op.signing_key().to_bytes(),
            &CaTlsConfig::embedded()
        )
        .await
        .is_err()
    );
    hub.shutdown().await;
}
