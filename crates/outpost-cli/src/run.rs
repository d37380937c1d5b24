//! Runs one parsed command: reads what it needs from the user, calls
//! `outpost-core`, and hands the result to the one rendering path.

use crate::args::{CaseCmd, Cli, Command, CommunityCmd, MemberCmd, ProtocolCmd, QuestionCmd};
use crate::input::{Input, open_home, passphrase};
use crate::output::{self, List, Out, neutralise};
use anyhow::{Result, bail};
use outpost_core::{
    AgeBand, CaseStatus, CoreError, Kind, MemberProfile, NewCase, NewCommunity, NewItem,
    NewProtocol, NewQuestion, Outpost, ProtocolStatus, Role, Setting, Sex, Sharing, Unlock,
    resolve_home,
};

fn parse<T: std::str::FromStr<Err = outpost_core::ValidationError>>(
    v: Option<String>,
) -> Result<Option<T>> {
    Ok(v.map(|s| s.parse()).transpose()?)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Prints an error on stderr; findings of the identifier check are listed
/// one per line first.
pub fn report(e: &anyhow::Error) {
    if let Some(CoreError::Identifiers(found)) = e.downcast_ref::<CoreError>() {
        for f in found {
            let x = &f.finding;
            eprintln!(
                "  {}: {} '{}' (bytes {}-{}) -> {}",
                f.field,
                x.category,
                neutralise(&x.text),
                x.start,
                x.end,
                neutralise(&x.redaction)
            );
        }
        eprintln!(
            "error: {} likely patient identifier(s) found (listed above); remove them, \
             or pass --allow-identifiers if they are not about a patient. Nothing was shared",
            found.len()
        );
        return;
    }
    eprintln!("error: {}", neutralise(&format!("{e:#}")));
}

/// Shows documents done / announced on a terminal while a sync runs.
fn progress_bar() -> impl FnMut(outpost_core::SyncProgress) {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let mut shown = false;
    move |p| {
        if tty && p.total > 0 {
            shown = true;
            let width = 30;
            let filled = width * p.done.min(p.total) / p.total.max(1);
            eprint!(
                "\r[{}{}] {}/{} documents",
                "#".repeat(filled),
                "-".repeat(width - filled),
                p.done,
                p.total
            );
        }
        let _ = shown;
    }
}

/// Commands that run before (or without) opening a home.
fn run_unopened(cli: &Cli, home: &std::path::Path, out: &Out, input: &mut Input) -> Result<bool> {
    match &cli.command {
        Command::Init {
            name,
            profession,
            region,
            expertise,
            passphrase: use_passphrase,
        } => {
            let profile = MemberProfile {
                name: name.clone(),
                profession: profession.clone(),
                region: region.clone(),
                expertise: expertise.clone(),
            };
            let new = || {
                passphrase(
                    "OUTPOST_PASSPHRASE",
                    "Choose a passphrase for this home: ",
                    true,
                )
            };
            let op = if *use_passphrase {
                Outpost::init_with(home, profile, &Unlock::passphrase(&new()?))?
            } else {
                match Outpost::init(home, profile.clone()) {
                    Err(CoreError::PassphraseNeeded(why)) => {
                        eprintln!("{why}");
                        Outpost::init_with(home, profile, &Unlock::passphrase(&new()?))?
                    }
                    other => other?,
                }
            };
            let me = op.whoami();
            out.print(&output::Created {
                what: format!("Outpost is set up in {}.", me.home.display()),
                show: true,
                value: &me,
            })?;
            Ok(true)
        }
        Command::Scan { file } => {
            let text = input.file("file", file)?;
            let found = outpost_core::scan(&text);
            out.print(&output::Findings {
                text: &text,
                found: &found,
            })?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let home = resolve_home(cli.home.as_deref())?;
    let out = Out { json: cli.json };
    let share = Sharing::from_flag(cli.allow_identifiers);
    let mut input = Input::default();
    if run_unopened(&cli, &home, &out, &mut input)? {
        return Ok(());
    }
    let mut op = open_home(&home)?;
    match cli.command {
        Command::Init { .. } | Command::Scan { .. } => Ok(()),
        Command::Rekey { keychain } => {
            let unlock = if keychain {
                Unlock::Keychain
            } else {
                Unlock::passphrase(&passphrase(
                    "OUTPOST_NEW_PASSPHRASE",
                    "New passphrase: ",
                    true,
                )?)
            };
            let lock = op.rekey(&unlock)?;
            out.print(&output::Rekeyed { lock })
        }
        Command::Export {
            community,
            out: path,
            format,
        } => match format.as_str() {
            "markdown" | "md" => {
                let files = op.export_markdown(&op.resolve_community(&community)?, &path)?;
                out.print(&output::ExportedMarkdown {
                    dir: &path,
                    files: &files,
                })
            }
            "bundle" => {
                let p = passphrase(
                    "OUTPOST_BUNDLE_PASSPHRASE",
                    "Passphrase for the bundle: ",
                    true,
                )?;
                let summary = op.export_bundle_to(&op.resolve_community(&community)?, &p, &path)?;
                out.print(&output::ExportedBundle {
                    path: &path,
                    summary: &summary,
                })
            }
            other => bail!("format: '{other}' is not one of bundle, markdown"),
        },
        Command::Import { file } => {
            let bytes = outpost_core::read_bundle(&file)?;
            let p = passphrase(
                "OUTPOST_BUNDLE_PASSPHRASE",
                "Passphrase for the bundle: ",
                false,
            )?;
            out.print(&op.import_bundle(&bytes, &p)?)
        }
        Command::Whoami => out.print(&op.whoami()),
        Command::Community(c) => community(&mut op, &out, &mut input, c),
        Command::Case(c) => case(&mut op, &out, &mut input, share, c),
        Command::Reply { case, text } => {
            let text = input.text("text", text)?;
            let case = op.resolve_item(&case, Some(Kind::Case))?.0;
            out.print(&op.reply(&case, &text, share)?)
        }
        Command::Question(QuestionCmd::Ask {
            community,
            title,
            body,
            tags,
        }) => {
            let body = input.text("body", body)?;
            let item = NewItem::Question(NewQuestion { title, body, tags });
            let community = op.resolve_community(&community)?;
            out.print(&output::Saved(&op.create_item(&community, item, share)?))
        }
        Command::Answer { question, text } => {
            let text = input.text("text", text)?;
            let question = op.resolve_item(&question, Some(Kind::Question))?.0;
            out.print(&op.answer(&question, &text, share)?)
        }
        Command::Accept { answer } => {
            let answer = op.resolve_answer(&answer)?;
            out.print(&op.accept(&answer)?)
        }
        Command::Helpful { answer } => {
            let answer = op.resolve_answer(&answer)?;
            let marked = op.helpful(&answer)?;
            out.print(&output::Helpful {
                id: &answer,
                marked,
            })
        }
        Command::Protocol(p) => protocol(&mut op, &out, &mut input, share, p),
        Command::Comment { item, text } => {
            let text = input.text("text", text)?;
            let item = op.resolve_item(&item, None)?.0;
            out.print(&op.comment(&item, &text, share)?)
        }
        Command::List(f) => out.print(&List {
            empty: "Nothing here yet.",
            items: &op.list(&f.filter(&op)?)?,
        }),
        Command::Show { id } => out.print(&op.show(&op.resolve_item(&id, None)?.0)?),
        Command::History { id } => out.print(&op.history(&op.resolve_item(&id, None)?.0)?[..]),
        Command::Search { query, filter } => out.print(&List {
            empty: "No matches.",
            items: &op.search(&query, &filter.filter(&op)?)?,
        }),
        Command::Demo => out.print(&op.demo()?),
        Command::Invite { community, expires } => {
            let ttl = humantime::parse_duration(&expires)
                .map_err(|e| anyhow::anyhow!("expires: '{expires}': {e}"))?;
            let invitation = op.invite(&op.resolve_community(&community)?, Some(ttl))?;
            out.print(&output::Invited::from(&invitation))
        }
        Command::Member(m) => member(&mut op, &out, m),
        Command::Peers => out.print(&List {
            empty: "No peers yet.",
            items: &op.peers()?,
        }),
        Command::Status => out.print(&op.status()?),
        Command::Config {
            relay_url,
            clear_relay_url,
        } => {
            if let Some(url) = relay_url {
                op.set_relay_url(Some(&url))?;
            }
            if clear_relay_url {
                op.set_relay_url(None)?;
            }
            out.print(&output::Config {
                relay_url: op.relay_url()?,
            })
        }
        Command::Serve {
            net,
            relay,
            relay_https,
            relay_cert,
            relay_key,
        } => {
            let device = op.device_id();
            let tls = match (relay_https, relay_cert, relay_key) {
                (Some(https_bind), Some(cert), Some(key)) => Some(outpost_core::RelayTls {
                    https_bind,
                    cert,
                    key,
                }),
                _ => None,
            };
            let relay = relay.map(|bind| outpost_core::RelayOptions { bind, tls });
            runtime()?.block_on(op.serve(&net.config(), relay, |running| {
                if let Err(e) = out.print(&output::Serving::of(running, device.to_hex())) {
                    tracing::warn!("printing the address: {e}");
                }
            }))?;
            Ok(())
        }
        Command::Sync { peers, net } => {
            let summary =
                runtime()?.block_on(op.sync_known(&net.config(), &peers, progress_bar()))?;
            finish_progress();
            out.print(&output::Synced(&summary))?;
            if !summary.converged {
                bail!("sync did not complete: {}", summary.failures());
            }
            Ok(())
        }
        Command::Invites { community } => {
            let community = op.resolve_community(&community)?;
            out.print(&List {
                empty: "No pending invitations.",
                items: &op.pending_invites(&community)?,
            })
        }
        Command::Refused { community } => {
            let community = op.resolve_community(&community)?;
            out.print(&output::Trust {
                forks: &op.forks(&community)?,
                refused: &op.refused_changes(&community)?,
            })
        }
        Command::RevokeInvite {
            community,
            invitation,
        } => {
            let community = op.resolve_community(&community)?;
            op.revoke_invite(&community, &invitation)?;
            out.print(&output::Revoked { id: &invitation })
        }
        Command::Join { ticket, net } => {
            let ticket = match ticket {
                Some(t) => t,
                None => crate::input::ticket()?,
            };
            let joined = runtime()?.block_on(op.join_once(&net.config(), &ticket))?;
            out.print(&output::Joined(&joined))
        }
    }
}

/// Ends a progress bar's line.
fn finish_progress() {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

fn community(op: &mut Outpost, out: &Out, input: &mut Input, c: CommunityCmd) -> Result<()> {
    match c {
        CommunityCmd::Create {
            name,
            domain,
            charter,
        } => {
            let domain = input.text("domain", domain)?;
            let charter = input.opt("charter", charter)?;
            let c = op.create_community(NewCommunity {
                name,
                domain,
                charter,
            })?;
            out.print(&output::Created {
                what: format!(
                    "Created community '{}' ({}). You are its admin.",
                    c.name, c.id
                ),
                show: false,
                value: &c,
            })
        }
        CommunityCmd::List => out.print(&List {
            empty: "No communities yet: `outpost community create` or `outpost demo`.",
            items: &op.communities()?,
        }),
        CommunityCmd::Show { id } => out.print(&op.community(&op.resolve_community(&id)?)?),
    }
}

fn case(op: &mut Outpost, out: &Out, input: &mut Input, share: Sharing, c: CaseCmd) -> Result<()> {
    match c {
        CaseCmd::Add {
            community,
            title,
            presenting,
            ask,
            age_band,
            sex,
            setting,
            history,
            findings,
            tags,
        } => {
            let case = NewCase {
                title,
                presenting: input.text("presenting", presenting)?,
                ask: input.text("ask", ask)?,
                age_band: parse::<AgeBand>(age_band)?,
                sex: parse::<Sex>(sex)?,
                setting: parse::<Setting>(setting)?,
                history: input.opt("history", history)?,
                findings: input.opt("findings", findings)?,
                tags,
            };
            let community = op.resolve_community(&community)?;
            let row = op.create_item(&community, NewItem::Case(case), share)?;
            out.print(&output::Saved(&row))
        }
        CaseCmd::Outcome { id, text } => {
            let text = input.text("text", text)?;
            let id = op.resolve_item(&id, Some(Kind::Case))?.0;
            out.print(&output::Updated(&op.case_outcome(&id, &text, share)?))
        }
        CaseCmd::Resolve { id } => {
            let id = op.resolve_item(&id, Some(Kind::Case))?.0;
            out.print(&output::Updated(
                &op.case_status(&id, CaseStatus::Resolved)?,
            ))
        }
        CaseCmd::Reopen { id } => {
            let id = op.resolve_item(&id, Some(Kind::Case))?.0;
            out.print(&output::Updated(&op.case_status(&id, CaseStatus::Open)?))
        }
    }
}

fn protocol(
    op: &mut Outpost,
    out: &Out,
    input: &mut Input,
    share: Sharing,
    p: ProtocolCmd,
) -> Result<()> {
    match p {
        ProtocolCmd::New {
            community,
            title,
            body_file,
            review_date,
            references,
            tags,
        } => {
            let body = input.file("body-file", &body_file)?;
            let item = NewItem::Protocol(NewProtocol {
                title,
                body,
                review_date,
                references,
                tags,
            });
            let community = op.resolve_community(&community)?;
            out.print(&output::Saved(&op.create_item(&community, item, share)?))
        }
        ProtocolCmd::Edit { id, body_file } => {
            let body = input.file("body-file", &body_file)?;
            let id = op.resolve_item(&id, Some(Kind::Protocol))?.0;
            out.print(&output::Updated(&op.protocol_edit(&id, &body, share)?))
        }
        ProtocolCmd::Status { id, status } => {
            let status: ProtocolStatus = status.parse()?;
            let id = op.resolve_item(&id, Some(Kind::Protocol))?.0;
            out.print(&output::Updated(&op.protocol_status(&id, status)?))
        }
    }
}

fn member(op: &mut Outpost, out: &Out, m: MemberCmd) -> Result<()> {
    let (id, role) = match m {
        MemberCmd::List { community } => {
            let community = op.resolve_community(&community)?;
            return out.print(&op.members(&community)?[..]);
        }
        MemberCmd::Add { community, device } => {
            let community = op.resolve_community(&community)?;
            let device = outpost_core::parse_device_id(&device)?;
            (op.member_add(&community, device)?, "added")
        }
        MemberCmd::Remove { community, member } => {
            let community = op.resolve_community(&community)?;
            let member = op.resolve_member(&community, &member)?;
            (op.member_remove(&community, member)?, "removed")
        }
        MemberCmd::Role {
            community,
            member,
            role,
        } => {
            let role: Role = role.parse()?;
            let community = op.resolve_community(&community)?;
            let member = op.resolve_member(&community, &member)?;
            (op.member_role(&community, member, role)?, role.as_str())
        }
    };
    out.print(&output::MemberChanged {
        id: &id.to_hex(),
        role,
    })
}
