//! A network lab for many real nodes on one machine: each home's process
//! runs in a network namespace of its own, reachable only through a
//! userspace UDP proxy per pair of nodes that the test controls (delay,
//! loss, a rate limit, partitions) and that counts every byte.
//!
//! Why namespaces: iroh learns a peer's real address inside the connection
//! and moves to a direct path, so a proxy on loopback is soon bypassed.
//! Node `i` lives in namespace `outpost-L-i` at `10.L.i.2` with only the
//! link `10.L.i.0/24` (no default route); the proxy listens on `10.L.i.1`,
//! one port per other node. Nothing else is reachable from inside. The
//! kernel here has no `netem`, so impairment is done here, in userspace.
//! Needs root (CI runs as root): without it [`Lab::new`] panics saying so.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The port every node's `serve` binds inside its namespace.
pub const NODE_PORT: u16 = 7000;
/// Proxy ports: node `i` reaches node `j` at `10.L.i.1:(PROXY_BASE + j)`.
pub const PROXY_BASE: u16 = 7100;
/// Packets queued on one direction of a link beyond this are dropped
/// (a router's tail drop).
const MAX_QUEUE: Duration = Duration::from_millis(1500);

/// What a link does to the packets it carries (both directions alike).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Impair {
    /// One-way delay.
    pub delay: Duration,
    /// Share of packets dropped (0.0 – 1.0).
    pub loss: f64,
    /// Bits per second each way; None: unlimited.
    pub rate: Option<u64>,
    /// Partitioned: nothing passes.
    pub down: bool,
}

impl Impair {
    /// A district WAN link: 256 kbit/s, 300 ms RTT, 2 % loss.
    pub fn wan() -> Self {
        Self {
            delay: Duration::from_millis(150),
            loss: 0.02,
            rate: Some(256_000),
            down: false,
        }
    }

    /// A harsh link: 64 kbit/s, 600 ms RTT, 10 % loss.
    pub fn harsh() -> Self {
        Self {
            delay: Duration::from_millis(300),
            loss: 0.10,
            rate: Some(64_000),
            down: false,
        }
    }
}

/// One pair's proxy: its impairment and what it carried each way.
#[derive(Debug, Default)]
pub struct Link {
    impair: Mutex<Impair>,
    /// Bytes delivered: [low → high, high → low] by node number.
    bytes: [AtomicU64; 2],
    dropped: AtomicU64,
}

impl Link {
    pub fn set(&self, impair: Impair) {
        if let Ok(mut i) = self.impair.lock() {
            *i = impair;
        }
    }

    pub fn impair(&self) -> Impair {
        self.impair.lock().map(|i| *i).unwrap_or_default()
    }

    pub fn set_down(&self, down: bool) {
        if let Ok(mut i) = self.impair.lock() {
            i.down = down;
        }
    }

    /// Bytes delivered each way: [lower-numbered node → higher, back].
    pub fn bytes_each_way(&self) -> [u64; 2] {
        [
            self.bytes[0].load(Ordering::Relaxed),
            self.bytes[1].load(Ordering::Relaxed),
        ]
    }

    /// Bytes delivered both ways.
    pub fn bytes(&self) -> u64 {
        self.bytes[0].load(Ordering::Relaxed) + self.bytes[1].load(Ordering::Relaxed)
    }

    /// Packets dropped (loss, partition, full queue).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Namespaces, veth pairs and proxies for `n` nodes; all removed on drop.
pub struct Lab {
    pub n: usize,
    net: u8,
    links: HashMap<(usize, usize), Arc<Link>>,
    rt: tokio::runtime::Runtime,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Lab {
    /// `n` nodes (at most 50), every pair linked through a proxy with no
    /// impairment.
    pub fn new(n: usize) -> Self {
        assert!((2..=50).contains(&n));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("proxy runtime");
        // A network number no other lab on this machine is using.
        let mut net = None;
        for _ in 0..64 {
            let candidate = fastrand::u8(20..250);
            if ip(&["netns", "add", &format!("outpost-{candidate}-0")]).is_ok() {
                net = Some(candidate);
                break;
            }
        }
        let net = net.unwrap_or_else(|| {
            panic!(
                "the network lab needs root and `ip netns` (iproute2): {}",
                ip(&["netns", "add", "outpost-probe"])
                    .err()
                    .unwrap_or_default()
            )
        });
        let mut lab = Lab {
            n,
            net,
            links: HashMap::new(),
            rt,
        };
        for i in 0..n {
            lab.add_node(i)
                .unwrap_or_else(|e| panic!("setting up node {i}: {e}"));
        }
        for a in 0..n {
            for b in a + 1..n {
                let link = Arc::new(Link::default());
                lab.spawn_proxy(a, b, link.clone());
                lab.links.insert((a, b), link);
            }
        }
        lab
    }

    fn veth(&self, i: usize) -> String {
        format!("op{}v{i}", self.net)
    }

    /// Node `i`'s namespace.
    pub fn ns(&self, i: usize) -> String {
        format!("outpost-{}-{i}", self.net)
    }

    fn add_node(&self, i: usize) -> Result<(), String> {
        let ns = self.ns(i);
        if i > 0 {
            ip(&["netns", "add", &ns])?;
        }
        let (outer, inner) = (self.veth(i), format!("{}n", self.veth(i)));
        ip(&[
            "link", "add", &outer, "type", "veth", "peer", "name", &inner,
        ])?;
        ip(&["link", "set", &inner, "netns", &ns])?;
        ip(&[
            "addr",
            "add",
            &format!("10.{}.{i}.1/24", self.net),
            "dev",
            &outer,
        ])?;
        ip(&["link", "set", &outer, "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &ns, "ip"];
            all.extend_from_slice(args);
            ip(&all)
        };
        inside(&[
            "addr",
            "add",
            &format!("10.{}.{i}.2/24", self.net),
            "dev",
            &inner,
        ])?;
        inside(&["link", "set", &inner, "up"])?;
        inside(&["link", "set", "lo", "up"])?;
        Ok(())
    }

    /// Where node `i`'s `serve` binds (inside its namespace).
    pub fn node_addr(&self, i: usize) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(10, self.net, i as u8, 2),
            NODE_PORT,
        ))
    }

    /// Where node `from` reaches node `to`: the proxy's end on `from`'s link.
    pub fn proxy_addr(&self, from: usize, to: usize) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(10, self.net, from as u8, 1),
            PROXY_BASE + to as u16,
        ))
    }

    /// `command`, run inside node `i`'s namespace.
    pub fn command(&self, i: usize, command: &Command) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns(i)])
            .arg(command.get_program())
            .args(command.get_args())
            .envs(
                command
                    .get_envs()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
            );
        for (k, v) in command.get_envs() {
            if v.is_none() {
                c.env_remove(k);
            }
        }
        c
    }

    /// The proxy between `a` and `b`.
    pub fn link(&self, a: usize, b: usize) -> &Arc<Link> {
        let key = (a.min(b), a.max(b));
        &self.links[&key]
    }

    /// Every link.
    pub fn links(&self) -> impl Iterator<Item = (&(usize, usize), &Arc<Link>)> {
        self.links.iter()
    }

    /// Sets every link's impairment.
    pub fn set_all(&self, impair: Impair) {
        for l in self.links.values() {
            l.set(impair);
        }
    }

    /// Cuts every link between `group` and the rest.
    pub fn partition(&self, group: &[usize]) {
        for (&(a, b), l) in &self.links {
            if group.contains(&a) != group.contains(&b) {
                l.set_down(true);
            }
        }
    }

    /// Heals every link.
    pub fn heal(&self) {
        for l in self.links.values() {
            l.set_down(false);
        }
    }

    /// Bytes all links delivered.
    pub fn total_bytes(&self) -> u64 {
        self.links.values().map(|l| l.bytes()).sum()
    }

    fn spawn_proxy(&self, a: usize, b: usize, link: Arc<Link>) {
        let (at_a, at_b) = (self.proxy_addr(a, b), self.proxy_addr(b, a));
        let (node_a, node_b) = (self.node_addr(a), self.node_addr(b));
        self.rt.block_on(async {
            let sa = Arc::new(
                tokio::net::UdpSocket::bind(at_a)
                    .await
                    .expect("proxy socket"),
            );
            let sb = Arc::new(
                tokio::net::UdpSocket::bind(at_b)
                    .await
                    .expect("proxy socket"),
            );
            // Where each node last sent from (a `sync --once` uses another
            // port than its `serve`).
            let from_a = Arc::new(Mutex::new(node_a));
            let from_b = Arc::new(Mutex::new(node_b));
            self.rt.spawn(forward(
                sa.clone(),
                sb.clone(),
                from_a.clone(),
                from_b.clone(),
                link.clone(),
                0,
            ));
            self.rt.spawn(forward(sb, sa, from_b, from_a, link, 1));
        });
    }
}

/// Packets on their way, with when each is due.
type Queue = VecDeque<(Instant, Vec<u8>)>;

/// One direction of a link: packets read on `inn` (recording their source
/// in `src`) go out of `out` to `dst`, impaired on the way.
async fn forward(
    inn: Arc<tokio::net::UdpSocket>,
    out: Arc<tokio::net::UdpSocket>,
    src: Arc<Mutex<SocketAddr>>,
    dst: Arc<Mutex<SocketAddr>>,
    link: Arc<Link>,
    dir: usize,
) {
    let queue: Arc<Mutex<Queue>> = Arc::default();
    let wake = Arc::new(tokio::sync::Notify::new());
    {
        let (queue, wake, link, out) = (queue.clone(), wake.clone(), link.clone(), out);
        tokio::spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|q| q.front().map(|(t, _)| *t));
                match next {
                    None => wake.notified().await,
                    Some(due) => {
                        tokio::time::sleep_until(due.into()).await;
                        let packet = queue.lock().ok().and_then(|mut q| q.pop_front());
                        if let Some((_, bytes)) = packet {
                            let to = dst.lock().map(|d| *d).ok();
                            if let Some(to) = to
                                && out.send_to(&bytes, to).await.is_ok()
                            {
                                link.bytes[dir].fetch_add(bytes.len() as u64, Ordering::Relaxed);
                            }
                        }
                    }
                }
            }
        });
    }
    let mut buf = vec![0u8; 65536];
    let mut free_at = Instant::now();
    loop {
        let Ok((n, from)) = inn.recv_from(&mut buf).await else {
            continue;
        };
        if let Ok(mut s) = src.lock() {
            *s = from;
        }
        let impair = link.impair();
        if impair.down || (impair.loss > 0.0 && fastrand::f64() < impair.loss) {
            link.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let now = Instant::now();
        let start = free_at.max(now);
        if start.duration_since(now) > MAX_QUEUE {
            link.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let on_wire = impair.rate.map_or(Duration::ZERO, |bps| {
            Duration::from_secs_f64((n as f64 + 28.0) * 8.0 / bps as f64)
        });
        free_at = start + on_wire;
        let due = free_at + impair.delay;
        if let Ok(mut q) = queue.lock() {
            q.push_back((due, buf[..n].to_vec()));
        }
        wake.notify_one();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for i in 0..self.n {
            let _ = ip(&["netns", "del", &self.ns(i)]);
        }
    }
}

/// CPU time (user + system) a process has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces, in parens).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line; 12 and 13 here.
    let total = ticks(11) + ticks(12);
    // Clock ticks are 1/100 s on Linux (sysconf(_SC_CLK_TCK)).
    Duration::from_millis(total * 10)
}

/// Homes that all belong to one community, each with a running `serve`
/// in its own namespace of a [`Lab`], every one knowing every other's
/// address through the proxies. Home 0 founded the community and added
/// the others by device id, so their first copies come by sync.
pub struct Mesh {
    pub lab: Lab,
    pub homes: Vec<crate::Home>,
    pub ids: Vec<String>,
    pub community: String,
    serves: Vec<Option<std::process::Child>>,
}

impl Mesh {
    pub fn new(n: usize) -> Self {
        let mut mesh = Self::stopped(n);
        for i in 0..n {
            mesh.start(i);
        }
        mesh
    }

    /// [`Mesh::new`] with no `serve` running yet (start them with
    /// [`Mesh::start`]), so a test can fill home 0 and set the links first.
    pub fn stopped(n: usize) -> Self {
        let lab = Lab::new(n);
        let homes: Vec<crate::Home> = (0..n).map(|_| crate::Home::new()).collect();
        let community = homes[0].init_with_community("Dr 0");
        let mut ids = vec![
            homes[0].json(&["whoami"])["id"]
                .as_str()
                .expect("id")
                .to_string(),
        ];
        for (i, h) in homes.iter().enumerate().skip(1) {
            let id = h.json(&["init", "--name", &format!("Dr {i}")])["id"]
                .as_str()
                .expect("id")
                .to_string();
            homes[0].json(&["member", "add", "--community", &community, &id]);
            ids.push(id);
        }
        // Every home knows every other at that one's proxy port on its link.
        let now = 1;
        for (i, h) in homes.iter().enumerate() {
            let store = crate::open_store(h.path()).expect("store");
            for (j, id) in ids.iter().enumerate() {
                if i == j {
                    continue;
                }
                let key: iroh::PublicKey = id.parse().expect("device id");
                let addr = iroh::EndpointAddr::new(key).with_ip_addr(lab.proxy_addr(i, j));
                let json = serde_json::to_string(&addr).expect("addr");
                store.peer_seen(id, Some(&json), now).expect("peer row");
            }
        }
        let mut mesh = Self {
            lab,
            homes,
            ids,
            community,
            serves: Vec::new(),
        };
        mesh.serves = (0..n).map(|_| None).collect();
        mesh
    }

    /// Starts home `i`'s `serve` (if it is not running).
    pub fn start(&mut self, i: usize) {
        use std::io::{BufRead, BufReader};
        if self.serves[i].is_some() {
            return;
        }
        let bind = self.lab.node_addr(i).to_string();
        let direct = self.homes[i].command(&["--json", "serve", "--bind", &bind, "--no-mdns"]);
        // OUTPOST_LAB_LOGS=DIR keeps each serve's log (set OUTPOST_LOG too).
        let stderr = std::env::var_os("OUTPOST_LAB_LOGS")
            .and_then(|dir| {
                let path =
                    std::path::Path::new(&dir).join(format!("serve-{}-{i}.log", self.lab.net));
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .ok()
            })
            .map_or_else(Stdio::null, Stdio::from);
        let mut child = self
            .lab
            .command(i, &direct)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start serve");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out)
                .read_line(&mut line)
                .expect("serve's first line");
        }
        assert!(line.contains("ticket"), "serve {i} printed {line:?}");
        self.serves[i] = Some(child);
    }

    /// SIGKILLs home `i`'s `serve`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.serves[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn running(&self, i: usize) -> bool {
        self.serves[i].is_some()
    }

    pub fn pid(&self, i: usize) -> Option<u32> {
        self.serves[i].as_ref().map(std::process::Child::id)
    }

    /// Each home's digest of the community (documents and log): equal
    /// digests, identical heads for every document.
    pub fn digests(&self) -> Vec<Option<[u8; 32]>> {
        self.homes
            .iter()
            .map(|h| {
                let s = crate::open_store(h.path()).ok()?;
                let has = s.is_member(&self.community, &self.ids[0]).ok()?;
                has.then(|| s.digest(&self.community).ok()).flatten()
            })
            .collect()
    }

    /// Items each home holds.
    pub fn counts(&self) -> Vec<i64> {
        self.homes
            .iter()
            .map(|h| {
                crate::open_store(h.path())
                    .and_then(|s| s.item_count())
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Waits (up to `limit`) until every home holds the same digest;
    /// returns how long that took.
    pub fn converge(&self, limit: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let d = self.digests();
            if d.iter().all(|x| x.is_some() && *x == d[0]) {
                return Ok(start.elapsed());
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "not converged after {limit:?}: items {:?}, digests equal to home 0: {:?}",
                    self.counts(),
                    d.iter()
                        .map(|x| x.is_some() && *x == d[0])
                        .collect::<Vec<_>>()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        for i in 0..self.serves.len() {
            self.kill(i);
        }
    }
}
