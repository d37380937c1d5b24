//! Peer-to-peer sync over real iroh endpoints on 127.0.0.1 (relays and mDNS
//! off) between real stores.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_core::testing::{invite_parts, invite_with_ttl, sync_once};
use outpost_core::{
    ItemStatus, ListFilter, NewItem, NewProtocol, ProtocolStatus, Sharing::Checked,
};
use outpost_tests::{Peer, eventually, join, sync};

fn protocol(
    p: &mut Peer,
    community: &outpost_core::CommunityId,
    body: &str,
) -> outpost_core::DocId {
    let item = NewItem::Protocol(NewProtocol {
        title: "Sepsis first hour".into(),
        body: body.into(),
        review_date: None,
        references: vec![],
        tags: vec![],
    });
    p.op.create_item(community, item, Checked).unwrap().id
}

fn heads(p: &Peer, id: &str) -> Vec<[u8; 32]> {
    p.op.store()
        .heads(id)
        .unwrap()
        .into_iter()
        .map(|h| h.0)
        .collect()
}

#[tokio::test]
async fn offline_edits_on_two_peers_converge_with_both_edits() {
    let (mut a, mut b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let c = a.community("Rural emergencies");
    let body = "1. Oxygen\n2. Antibiotics\n3. Fluids\n";
    let pid = protocol(&mut a, &c, body);
    let (na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &c).await;
    assert_eq!(b.titles(), a.titles());

    // Offline: each adds items, and both edit the same protocol.
    a.case(&c, "A's febrile infant");
    b.case(&c, "B's snakebite");
    b.case(&c, "B's burns");
    a.op.protocol_edit(
        &pid,
        "1. Oxygen 15 L/min\n2. Antibiotics\n3. Fluids\n",
        Checked,
    )
    .unwrap();
    b.op.protocol_edit(
        &pid,
        "1. Oxygen\n2. Antibiotics\n3. Fluids 10 mL/kg\n",
        Checked,
    )
    .unwrap();
    a.op.protocol_status(&pid, ProtocolStatus::Endorsed)
        .unwrap();

    sync(&nb, &na).await;
    assert_eq!(a.titles(), b.titles());
    assert_eq!(a.titles().len(), 4);
    assert_eq!(heads(&a, &pid), heads(&b, &pid), "identical heads");
    let (pa, pb) = (a.op.show(&pid).unwrap(), b.op.show(&pid).unwrap());
    let body_a = pa.item.protocol.as_ref().unwrap().body.clone();
    assert_eq!(
        body_a,
        pb.item.protocol.as_ref().unwrap().body,
        "identical content"
    );
    assert_eq!(
        body_a, "1. Oxygen 15 L/min\n2. Antibiotics\n3. Fluids 10 mL/kg\n",
        "both edits kept"
    );
    assert_eq!(pa.status, ItemStatus::Protocol(ProtocolStatus::Endorsed));
    // Items created and synced say so (once A has read B's last word);
    // both communities' digests agree.
    eventually("A's items marked synced", || {
        a.op.list(&ListFilter::default())
            .unwrap()
            .iter()
            .all(|r| r.synced)
    })
    .await;
    assert_eq!(
        a.op.store().digest(&c).unwrap(),
        b.op.store().digest(&c).unwrap()
    );
}

#[tokio::test]
async fn a_hub_forwards_between_members_who_never_meet() {
    let (mut a, hub, mut cc) = (Peer::new("Dr A"), Peer::new("Hub"), Peer::new("Dr C"));
    let c = a.community("District");
    let (na, nh, nc) = (a.node().await, hub.node().await, cc.node().await);
    join(&a, &nh, &c).await;
    // The hub must be an admin to invite C itself.
    a.op.member_role(&c, hub.key(), outpost_core::Role::Admin)
        .unwrap();
    sync(&na, &nh).await;
    join(&hub, &nc, &c).await;

    let case = a.case(&c, "A's chest pain");
    sync(&na, &nh).await;
    sync(&nc, &nh).await;
    assert!(
        cc.titles().contains(&"A's chest pain".to_string()),
        "A's case reached C through the hub"
    );
    let reply = cc
        .op
        .reply(&case, "Serial ECGs every 30 minutes", Checked)
        .unwrap();
    sync(&nc, &nh).await;
    sync(&na, &nh).await;
    let shown = a.op.show(&case).unwrap();
    assert_eq!(
        shown.item.replies.len(),
        1,
        "C's reply reached A through the hub"
    );
    assert_eq!(shown.item.replies[0].id, reply.id);
    assert_eq!(a.op.community(&c).unwrap().members.len(), 3);
}

#[tokio::test]
async fn non_members_receive_nothing_and_communities_stay_apart() {
    let (mut a, mut b, stranger) = (Peer::new("Dr A"), Peer::new("Dr B"), Peer::new("Stranger"));
    let x = a.community("X");
    let y = a.community("Y");
    a.case(&x, "X case");
    a.case(&y, "Y secret case");
    let (na, nb, ns) = (a.node().await, b.node().await, stranger.node().await);
    join(&a, &nb, &x).await;

    // A stranger connects: zero bytes of community data either way.
    let s = sync_once(&ns, vec![(na.addr(), vec![])]).await;
    let r = &s.peers[0];
    assert_eq!(
        r.community_bytes_in, 0,
        "stranger received community data: {r:?}"
    );
    assert_eq!(r.docs_in, 0);
    assert!(stranger.titles().is_empty() && stranger.op.communities().unwrap().is_empty());

    // A member of X gets X, nothing of Y.
    a.case(&x, "X case 2");
    a.case(&y, "Y case 2");
    let r = sync(&nb, &na).await;
    assert_eq!(b.titles(), ["X case", "X case 2"]);
    assert_eq!(b.op.communities().unwrap().len(), 1);
    assert!(
        b.op.store().load(&y).is_err(),
        "Y's community document reached a non-member"
    );
    assert!(
        r.community_bytes_in > 0 && r.docs_in > 0,
        "the wire counters count: {r:?}"
    );

    // Once A removes B, B receives nothing new from A.
    a.op.member_remove(&x, b.key()).unwrap();
    a.case(&x, "after removal");
    b.case(&x, "B writes anyway");
    let s = sync_once(&nb, vec![(na.addr(), vec![])]).await;
    assert_eq!(
        s.peers[0].community_bytes_in, 0,
        "a removed member received data: {:?}",
        s.peers[0]
    );
    assert_eq!(b.titles(), ["B writes anyway", "X case", "X case 2"]);
    assert!(
        !a.titles().contains(&"B writes anyway".to_string()),
        "a removed member's writes were accepted"
    );
}

#[tokio::test]
async fn used_and_expired_invitations_are_refused() {
    let (mut a, b, c2) = (Peer::new("Dr A"), Peer::new("Dr B"), Peer::new("Dr C"));
    let x = a.community("X");
    a.case(&x, "X case");
    let (_na, nb, nc) = (a.node().await, b.node().await, c2.node().await);
    let t =
        a.op.invite(&x, Some(std::time::Duration::from_secs(3600)))
            .unwrap();
    let (community, secret, inviter) = invite_parts(&t.ticket).unwrap();
    let joins = vec![(community, secret)];
    let s = sync_once(&nb, vec![(inviter.clone(), joins.clone())]).await;
    assert!(s.converged);
    // The same ticket, used again by someone else.
    let s = sync_once(&nc, vec![(inviter, joins)]).await;
    assert!(!s.converged);
    assert!(
        s.peers[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("already used"),
        "{:?}",
        s.peers[0]
    );
    assert!(c2.titles().is_empty());
    // An expired ticket.
    let t = invite_with_ttl(&a.op, &x, std::time::Duration::from_millis(1)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (community, secret, inviter) = invite_parts(&t.ticket).unwrap();
    let s = sync_once(&nc, vec![(inviter, vec![(community, secret)])]).await;
    assert!(
        s.peers[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("expired"),
        "{:?}",
        s.peers[0]
    );
    assert!(c2.titles().is_empty());
    assert_eq!(a.op.community(&x).unwrap().members.len(), 2);
}

#[tokio::test]
async fn a_removed_member_cannot_rejoin_and_used_or_revoked_tickets_open_nothing() {
    let (mut a, b, c) = (Peer::new("Dr A"), Peer::new("Dr B"), Peer::new("Dr C"));
    let x = a.community("X");
    a.case(&x, "X case");
    let (_na, nb, nc) = (a.node().await, b.node().await, c.node().await);
    let t =
        a.op.invite(&x, Some(std::time::Duration::from_secs(3600)))
            .unwrap();
    assert_eq!(a.op.pending_invites(&x).unwrap().len(), 1);
    let (community, secret, inviter) = invite_parts(&t.ticket).unwrap();
    let joins = vec![(community, secret)];
    let s = sync_once(&nb, vec![(inviter.clone(), joins.clone())]).await;
    assert!(s.converged, "{:?}", s.peers);
    // Redeemed: no longer pending, its secret gone.
    assert!(a.op.pending_invites(&x).unwrap().is_empty());
    // B joining again with the same ticket (a retry) changes nothing.
    let ops_before = a.op.store().op_log(&x).unwrap().len();
    let s = sync_once(&nb, vec![(inviter.clone(), joins.clone())]).await;
    assert!(s.converged, "{:?}", s.peers);
    let ops_after = a.op.store().op_log(&x).unwrap().len();
    assert_eq!(ops_before, ops_after, "a retried join signed a second Add");
    // Someone who intercepted the ticket cannot use it.
    let s = sync_once(&nc, vec![(inviter.clone(), joins.clone())]).await;
    assert!(!s.converged);
    assert!(c.titles().is_empty());
    // B is removed, then runs `join` with the ticket it used before.
    let removed = a.op.resolve_member(&x, &b.key().to_hex()).unwrap();
    a.op.member_remove(&x, removed).unwrap();
    let s = sync_once(&nb, vec![(inviter.clone(), joins)]).await;
    let why = s.peers[0].error.clone().unwrap_or_default();
    assert!(why.contains("removed"), "{:?}", s.peers[0]);
    assert!(
        a.op.members(&x)
            .unwrap()
            .iter()
            .all(|m| m.member.id != b.key()),
        "the removed member is back"
    );
    // Even with a fresh invitation.
    let fresh =
        a.op.invite(&x, Some(std::time::Duration::from_secs(3600)))
            .unwrap();
    let (community, secret, inviter) = invite_parts(&fresh.ticket).unwrap();
    let s = sync_once(&nb, vec![(inviter, vec![(community, secret)])]).await;
    assert!(!s.converged, "{:?}", s.peers);
    assert!(
        a.op.members(&x)
            .unwrap()
            .iter()
            .all(|m| m.member.id != b.key())
    );
    // A revoked invitation opens nothing.
    let revoked =
        a.op.invite(&x, Some(std::time::Duration::from_secs(3600)))
            .unwrap();
    a.op.revoke_invite(&x, &revoked.id).unwrap();
    assert!(
        a.op.pending_invites(&x)
            .unwrap()
            .iter()
            .all(|p| p.id != revoked.id)
    );
    let (community, secret, inviter) = invite_parts(&revoked.ticket).unwrap();
    let s = sync_once(&nc, vec![(inviter, vec![(community, secret)])]).await;
    assert!(!s.converged);
    assert!(c.titles().is_empty());
    assert!(matches!(
        a.op.revoke_invite(&x, &revoked.id),
        Err(outpost_core::CoreError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_reach_each_other_through_a_self_hosted_relay() {
    // A relay that forwards for anyone (as a separately run one may).
    let anyone: outpost_net::RelayAccess = std::sync::Arc::new(|_| true);
    let relay = outpost_net::Relay::spawn("127.0.0.1:0".parse().unwrap(), anyone, None)
        .await
        .unwrap();
    let url = relay.url().unwrap();
    let config = outpost_net::NetConfig {
        relay_url: Some(url.clone()),
        ..outpost_net::NetConfig::loopback()
    };
    let (mut a, b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let x = a.community("X");
    a.case(&x, "over the relay");
    let na = outpost_core::testing::node(&a.op, &config).await.unwrap();
    let nb = outpost_core::testing::node(&b.op, &config).await.unwrap();
    // B knows only A's id and the relay: no direct address at all.
    let relay_url: iroh::RelayUrl = url.parse().unwrap();
    let only_relay = iroh::EndpointAddr::new(na.id()).with_relay_url(relay_url);
    outpost_core::testing::set_node_addr(&a.op, &only_relay).unwrap();
    let t =
        a.op.invite(&x, Some(std::time::Duration::from_secs(600)))
            .unwrap();
    let (community, secret, inviter) = invite_parts(&t.ticket).unwrap();
    assert!(inviter.ip_addrs().next().is_none());
    let s = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        sync_once(&nb, vec![(inviter, vec![(community, secret)])]),
    )
    .await
    .expect("sync through the relay timed out");
    assert!(s.converged, "{:?}", s.peers);
    assert_eq!(b.titles(), ["over the relay"]);
    drop((na, nb));
    relay.shutdown().await;
}

/// A home restored from a copy made earlier, then written to: each opening
/// writes under a fresh actor, so the restored home never signs a second,
/// different change with an (actor, seq) its peers already hold, and its
/// feed positions follow the clock, so peers holding a checkpoint past the
/// copy still ask for what it writes next; sync carries on.
#[tokio::test]
async fn a_home_restored_from_an_earlier_copy_writes_and_syncs_cleanly() {
    let (mut a, b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let x = a.community("X");
    let case = a.case(&x, "Febrile child");
    let (na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &x).await;
    drop(nb);
    // A copy of B's home, taken while it is closed.
    let copy = tempfile::tempdir().unwrap();
    let home = b.dir.path().to_path_buf();
    let Peer { dir, op } = b;
    drop(op);
    let copy_all = |from: &std::path::Path, to: &std::path::Path| {
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    };
    copy_all(&home, copy.path());
    let reopen = |dir: tempfile::TempDir| Peer {
        op: outpost_core::Outpost::open_with(dir.path(), &outpost_tests::test_unlock()).unwrap(),
        dir,
    };
    // B replies, and it reaches A.
    let mut b = reopen(dir);
    b.op.reply(&case, "Check the fontanelle.", Checked).unwrap();
    let nb = b.node().await;
    sync(&nb, &na).await;
    drop(nb);
    // B's laptop is restored from the copy, which lacks that reply, and B
    // replies again.
    let Peer { dir, op } = b;
    drop(op);
    copy_all(copy.path(), &home);
    let mut b = reopen(dir);
    b.op.reply(&case, "Was the child vaccinated?", Checked)
        .unwrap();
    let nb = b.node().await;
    sync(&nb, &na).await;
    let replies: Vec<String> =
        a.op.show(&case)
            .unwrap()
            .item
            .replies
            .iter()
            .map(|r| r.body.clone())
            .collect();
    assert_eq!(replies.len(), 2, "{replies:?}");
    let at_b = b.op.show(&case).unwrap().item.replies.len();
    assert_eq!(at_b, 2, "B got its earlier reply back from A");
    assert!(a.op.store().refused_changes(&x).unwrap().is_empty());
}

/// The demo community obeys the rules every peer enforces: a member who
/// joins it receives all of it, and refuses nothing.
#[tokio::test]
async fn the_demo_community_syncs_whole_under_the_rules() {
    let (mut a, b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let demo = a.op.demo().unwrap();
    let (_na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &demo.community).await;
    assert_eq!(b.titles().len(), a.titles().len());
    assert_eq!(
        b.op.store().refused_changes(&demo.community).unwrap(),
        vec![]
    );
    for row in a.op.list(&ListFilter::default()).unwrap() {
        assert_eq!(
            b.op.store().heads(&row.id).unwrap(),
            a.op.store().heads(&row.id).unwrap(),
            "{} differs",
            row.title
        );
    }
}

/// What a member wrote before they were removed stays, marked as theirs:
/// `show` names them among those who have left.
#[tokio::test]
async fn a_removed_members_posts_stay_marked_as_having_left() {
    let (mut a, mut b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let x = a.community("X");
    let case = a.case(&x, "Burns, 40% BSA");
    let (na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &x).await;
    b.op.reply(&case, "Parkland formula, and call the burns unit.", Checked)
        .unwrap();
    sync(&nb, &na).await;
    assert!(a.op.show(&case).unwrap().left.is_empty());
    a.op.member_remove(&x, b.key()).unwrap();
    let shown = a.op.show(&case).unwrap();
    assert_eq!(shown.item.replies.len(), 1);
    assert_eq!(shown.left, vec![b.key()]);
}
