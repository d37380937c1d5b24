//! One session over one connection: a reader task turns bytes into
//! frames, a writer task writes frames out, and a blocking worker owns the
//! handler (it touches SQLite) and turns what arrives into what to send.

use crate::{Mode, PeerHandler, Report, Shared, Stats};
use iroh::EndpointId;
use iroh::endpoint::{Connection, RecvStream, SendStream};
use outpost_sync::session::Progress;
use outpost_sync::wire::{Decoder, Msg, encode};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

pub(crate) enum Input {
    Msg(Msg, usize),
    Local(String, String),
    /// A frame that cannot be read: the peer is broken or hostile.
    Abort(String),
    /// The connection went (the peer stopped, the link dropped, the idle
    /// timeout passed): expected on any network, not a fault.
    Lost(String),
    /// A session on probation reached its deadline.
    Probation,
    Eof,
}

/// How a session begins: with what an unknown peer sent while it was
/// being judged, and a deadline if it is on probation.
#[derive(Default)]
pub(crate) struct Start {
    pub(crate) opening: Option<crate::Opening>,
    pub(crate) probation: Option<Duration>,
    /// This side dialled the connection.
    pub(crate) dialed: bool,
}

/// Messages applied together at most (one transaction on the handler side).
const MAX_BURST: usize = 256;

/// Frames read from a peer and not yet handled, at most: beyond this the
/// reader waits, and QUIC flow control stops the peer, so a peer sending
/// faster than the store writes cannot fill memory. (Replies stay
/// unbounded here: bounding both directions lets two busy peers each wait
/// for the other to read. What one request may cost is the session's
/// business.)
const FRAMES_IN: usize = MAX_BURST;

/// A one-off sync gives up on a peer that has sent nothing for this long
/// while this side had nothing left to handle (a live session waits as
/// long as QUIC keeps the connection up).
pub const ONCE_SILENCE: Duration = Duration::from_secs(60);

/// Why a send failed: the writer is gone with the connection.
const CLOSED: &str = "connection closed";

static SESSION_NUMBER: AtomicU64 = AtomicU64::new(0);

/// Runs one session: a reader task (frames in), a writer task (frames
/// out) and a blocking worker that owns the handler.
pub(crate) async fn drive(
    shared: Shared,
    conn: Connection,
    mut send: SendStream,
    mut recv: RecvStream,
    handler: Box<dyn PeerHandler>,
    mode: Mode,
    start: Start,
) -> Report {
    let peer = conn.remote_id();
    let stats = Arc::new(Stats::default());
    let (opening, decoder) = match start.opening {
        Some(o) => {
            stats.bytes_in.fetch_add(o.bytes, Ordering::Relaxed);
            (o.msgs, o.decoder)
        }
        None => (Vec::new(), Decoder::default()),
    };
    let (in_tx, in_rx) = mpsc::channel::<Input>(FRAMES_IN);
    let (local_tx, local_rx) = mpsc::unbounded_channel::<Input>();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let number = SESSION_NUMBER.fetch_add(1, Ordering::Relaxed);
    if mode == Mode::Live
        && let Ok(mut m) = shared.live.lock()
    {
        // Two nodes that dial each other at once hold two connections,
        // and would move every document twice. Both sides keep the one
        // the lower id dialled, and end the other (whichever came first).
        let me = shared.me;
        let keeps = |dialed: bool| dialed == (me < *peer.as_bytes());
        let sessions = m.entry(peer).or_default();
        if keeps(start.dialed) {
            for (_, (other, _)) in sessions.iter().filter(|(_, (_, d))| *d != start.dialed) {
                let _ = other.send(Input::Lost(
                    "a duplicate connection (the peer dialled too)".into(),
                ));
            }
        } else if sessions.iter().any(|(_, (_, d))| *d != start.dialed) {
            let _ = local_tx.send(Input::Lost(
                "a duplicate connection (the peer dialled too)".into(),
            ));
        }
        sessions.push((number, (local_tx.clone(), start.dialed)));
    }
    let probation = start.probation.map(|after| {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = local_tx.send(Input::Probation);
        })
    });

    // Whether the worker is handling something (then the peer may well be
    // waiting for this side, and its silence is no sign of trouble).
    let busy = Arc::new(AtomicBool::new(true));

    // Reader: bytes → frames → worker. A bad frame aborts this session only.
    let reader_stats = stats.clone();
    let reader_tx = in_tx.clone();
    let reader_busy = busy.clone();
    let silence = shared.once_silence;
    let reader = tokio::spawn(async move {
        let mut decoder = decoder;
        for (msg, len) in opening {
            if reader_tx.send(Input::Msg(msg, len)).await.is_err() {
                return;
            }
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let read = recv.read(&mut buf);
            let read = if mode == Mode::Once {
                match tokio::time::timeout(silence, read).await {
                    Ok(r) => r,
                    // Reading is cancel-safe: nothing read is lost.
                    Err(_)
                        if reader_busy.load(Ordering::Relaxed)
                            || reader_tx.capacity() < reader_tx.max_capacity() =>
                    {
                        continue;
                    }
                    Err(_) => {
                        let _ = reader_tx
                            .send(Input::Lost(format!(
                                "the peer sent nothing for {} s",
                                silence.as_secs()
                            )))
                            .await;
                        return;
                    }
                }
            } else {
                read.await
            };
            match read {
                Ok(Some(n)) => {
                    reader_stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                    decoder.push(&buf[..n]);
                    loop {
                        let frame_len = decoder.wanted();
                        match decoder.next_msg() {
                            Ok(Some(msg)) => {
                                let len = frame_len.ok().flatten().unwrap_or(0) + 4;
                                if reader_tx.send(Input::Msg(msg, len)).await.is_err() {
                                    return;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                let _ = reader_tx.send(Input::Abort(e.to_string())).await;
                                return;
                            }
                        }
                    }
                }
                Ok(None) => {
                    let end = if decoder.pending() > 0 {
                        Input::Abort("connection ended inside a frame".into())
                    } else {
                        Input::Eof
                    };
                    let _ = reader_tx.send(end).await;
                    return;
                }
                Err(e) => {
                    let _ = reader_tx.send(Input::Lost(format!("read: {e}"))).await;
                    return;
                }
            }
        }
    });
    drop(in_tx);

    // Writer: frames → stream.
    let writer_stats = stats.clone();
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if send.write_all(&frame).await.is_err() {
                break;
            }
            writer_stats
                .bytes_out
                .fetch_add(frame.len() as u64, Ordering::Relaxed);
        }
        let _ = send.finish();
        // Let the peer read what was sent before the connection goes.
        let _ = tokio::time::timeout(Duration::from_secs(5), send.stopped()).await;
    });

    // Worker: the handler, off the async threads (it touches SQLite).
    let worker_stats = stats.clone();
    let progress = shared.progress.clone();
    let rt = tokio::runtime::Handle::current();
    let worker = tokio::task::spawn_blocking(move || {
        let inputs = Inputs {
            rt,
            frames: in_rx,
            local: local_rx,
            busy,
        };
        worker(handler, inputs, out_tx, worker_stats, mode, peer, progress)
    });
    let (converged, reconciled, error) =
        worker
            .await
            .unwrap_or((false, false, Some("session worker failed".into())));
    let _ = writer.await;
    reader.abort();
    if let Some(p) = probation {
        p.abort();
    }
    if let Ok(mut m) = shared.live.lock()
        && let Some(sessions) = m.get_mut(&peer)
    {
        sessions.retain(|(n, _)| *n != number);
        if sessions.is_empty() {
            m.remove(&peer);
        }
    }
    if let Ok(mut m) = shared.progress.lock() {
        m.remove(&peer);
    }
    conn.close(0u32.into(), b"bye");
    stats.report(&peer, (converged, reconciled), error)
}

/// What a session's worker reads: the peer's frames (bounded) and this
/// device's local changes (from its own feed, never from a peer).
struct Inputs {
    rt: tokio::runtime::Handle,
    frames: mpsc::Receiver<Input>,
    local: mpsc::UnboundedReceiver<Input>,
    /// False while the worker waits here for input, true while it handles
    /// what came.
    busy: Arc<AtomicBool>,
}

impl Inputs {
    /// The next input of either kind; None once both are closed.
    fn next(&mut self) -> Option<Input> {
        let (frames, local) = (&mut self.frames, &mut self.local);
        self.busy.store(false, Ordering::Relaxed);
        let next = self.rt.block_on(async {
            tokio::select! {
                Some(i) = frames.recv() => Some(i),
                Some(i) = local.recv() => Some(i),
                else => None,
            }
        });
        self.busy.store(true, Ordering::Relaxed);
        next
    }

    /// A frame that has already arrived, if any.
    fn try_frame(&mut self) -> Option<Input> {
        self.frames.try_recv().ok()
    }
}

fn worker(
    mut handler: Box<dyn PeerHandler>,
    mut input: Inputs,
    output: mpsc::UnboundedSender<Vec<u8>>,
    stats: Arc<Stats>,
    mode: Mode,
    peer: EndpointId,
    progress: Arc<Mutex<HashMap<EndpointId, Progress>>>,
) -> (bool, bool, Option<String>) {
    let send = |msgs: Vec<Msg>| -> Result<(), String> {
        for m in msgs {
            tracing::trace!(peer = %peer.fmt_short(), "out: {}", m.summary());
            let frame = encode(&m).map_err(|e| e.to_string())?;
            if m.community().is_some() {
                stats
                    .community_bytes_out
                    .fetch_add(frame.len() as u64, Ordering::Relaxed);
            }
            if matches!(m, Msg::Doc { .. }) {
                stats.docs_out.fetch_add(1, Ordering::Relaxed);
            }
            if output.send(frame).is_err() {
                return Err(CLOSED.into());
            }
        }
        Ok(())
    };
    let bye = |reason: &str| {
        if let Ok(frame) = encode(&Msg::Bye {
            reason: reason.to_string(),
        }) {
            let _ = output.send(frame);
        }
    };
    let mut error = handler.start().and_then(&send).err();
    let mut converged = false;
    let mut pending: Option<Input> = None;
    let mut lost = false;
    let mut reconciled = false;
    while error.is_none() {
        reconciled |= handler.converged();
        if mode == Mode::Once && handler.converged() {
            converged = true;
            bye("done");
            break;
        }
        let next = match pending.take() {
            Some(i) => i,
            None => match input.next() {
                Some(i) => i,
                None => break,
            },
        };
        let step = match next {
            Input::Msg(Msg::Bye { reason }, _) => {
                converged = handler.converged();
                if reason != "done" {
                    error = Some(format!("peer closed the session: {reason}"));
                }
                break;
            }
            Input::Msg(msg, len) => {
                // Take whatever else has already arrived, up to a bound,
                // and hand it over as one burst.
                let mut burst = vec![(msg, len)];
                while burst.len() < MAX_BURST {
                    match input.try_frame() {
                        Some(Input::Msg(m, l)) if !matches!(m, Msg::Bye { .. }) => {
                            burst.push((m, l))
                        }
                        Some(other) => {
                            pending = Some(other);
                            break;
                        }
                        None => break,
                    }
                }
                for (m, l) in &burst {
                    tracing::trace!(peer = %peer.fmt_short(), "in: {}", m.summary());
                    if m.community().is_some() {
                        stats
                            .community_bytes_in
                            .fetch_add(*l as u64, Ordering::Relaxed);
                    }
                    if matches!(m, Msg::Doc { .. }) {
                        stats.docs_in.fetch_add(1, Ordering::Relaxed);
                    }
                }
                handler.on_messages(burst.into_iter().map(|(m, _)| m).collect())
            }
            Input::Local(community, doc) => {
                tracing::trace!(peer = %peer.fmt_short(), "local change: {doc}");
                handler.on_local_change(&community, &doc)
            }
            Input::Abort(reason) => Err(reason),
            Input::Lost(reason) => {
                lost = true;
                Err(reason)
            }
            Input::Probation if !handler.shares() => {
                Err("not a member of any community held here".to_string())
            }
            Input::Probation => Ok(vec![]),
            Input::Eof => {
                converged = handler.converged();
                break;
            }
        };
        match step.and_then(&send) {
            Ok(()) => {}
            Err(e) => {
                // Sending fails only once the connection is gone.
                lost |= e == CLOSED;
                if lost {
                    tracing::info!(peer = %peer.fmt_short(), "session ended: {e}");
                } else {
                    tracing::warn!(peer = %peer.fmt_short(), "closing session: {e}");
                    bye(&e);
                }
                error = Some(e);
            }
        }
        if let Ok(mut m) = progress.lock() {
            m.insert(peer, handler.progress());
        }
    }
    handler.finish(&stats, error.as_deref());
    (converged, reconciled, error)
}
