//! Who may change what, enforced on every peer when a change is merged.
//!
//! Every op of a change is located by its path in the document (the keys
//! from the root to what it writes), and [`RULES`] says who may write
//! there: the item's owner (the device that created the document), the
//! author of a post (the device that created the reply, answer or comment
//! object: Automerge object ids carry the actor that created them), an
//! admin, any member, or only the member a key names (a profile, a helpful
//! mark). A change is allowed only if every one of its ops is. The first
//! change of a document creates it: its signer becomes the owner, and the
//! author it records must be its signer. The table is data: one row per
//! rule, read top to bottom, the first whose kind and path match decides;
//! a path no row matches may not be written by anyone.

use crate::membership::{Key, Role};
use automerge::{AutoCommit, ChangeHash, ExpandedChange, ObjId, Prop, ReadDoc};

/// Who may write a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The device that created the document.
    Owner,
    /// The device that created the post (reply, answer, comment) the path
    /// is in.
    PostAuthor,
    Admin,
    /// Any member.
    Member,
    /// The member whose device id is the map key at the path's end (a
    /// profile in the community document, a helpful mark).
    KeyHolder,
    /// Nobody after the document was created (its id, kind, author).
    Nobody,
}

/// One segment of a rule's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// This map key.
    Key(&'static str),
    /// Any of these map keys.
    OneOf(&'static [&'static str]),
    /// Any list index or map key.
    Any,
}

/// One rule: documents of `kinds` (empty: every item kind), ops whose path
/// starts with `path`, may be written by `who`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub kinds: &'static [&'static str],
    pub path: &'static [Seg],
    pub who: Who,
    /// What the rule protects, for people.
    pub what: &'static str,
}

const POSTS: &[&str] = &["replies", "answers", "comments"];
const ITEMS: &[&str] = &[];
use Seg::{Any, Key as K, OneOf};
use Who::*;

/// The rule table.
pub const RULES: &[Rule] = &[
    // The community document.
    Rule {
        kinds: &["community"],
        path: &[OneOf(&["name", "domain", "charter"])],
        who: Admin,
        what: "the community's name, domain and charter",
    },
    Rule {
        kinds: &["community"],
        path: &[K("members"), Any],
        who: KeyHolder,
        what: "each member's profile",
    },
    Rule {
        kinds: &["community"],
        path: &[K("updated_at")],
        who: Member,
        what: "when the community last changed",
    },
    // Every item: the discussion.
    Rule {
        kinds: ITEMS,
        path: &[K("updated_at")],
        who: Member,
        what: "when the item last changed",
    },
    Rule {
        kinds: ITEMS,
        path: &[K("answers"), Any, K("helpful"), Any],
        who: KeyHolder,
        what: "each member's own helpful mark",
    },
    Rule {
        kinds: ITEMS,
        path: &[OneOf(POSTS), Any, Any],
        who: PostAuthor,
        what: "a reply, answer or comment, by its author",
    },
    // (Adding a post to one of these lists is any member's; removing or
    // replacing one is its author's: see `list_op`.)
    Rule {
        kinds: ITEMS,
        path: &[OneOf(POSTS), Any],
        who: Member,
        what: "adding a reply, answer or comment",
    },
    // Cases and questions: their author's.
    Rule {
        kinds: &["case"],
        path: &[OneOf(&[
            "title",
            "presenting",
            "history",
            "findings",
            "ask",
            "age_band",
            "sex",
            "setting",
            "tags",
            "outcome",
            "status",
        ])],
        who: Owner,
        what: "a case's presentation, tags, outcome and status",
    },
    Rule {
        kinds: &["question"],
        path: &[OneOf(&["title", "body", "tags", "accepted"])],
        who: Owner,
        what: "a question's fields and which answer is accepted",
    },
    // Protocols: the text is collaborative, the status an admin's.
    Rule {
        kinds: &["protocol"],
        path: &[OneOf(&["body", "references"])],
        who: Member,
        what: "a protocol's body and references",
    },
    Rule {
        kinds: &["protocol"],
        path: &[OneOf(&["status", "review_date"])],
        who: Admin,
        what: "a protocol's status and review date",
    },
    Rule {
        kinds: &["protocol"],
        path: &[OneOf(&["title", "tags"])],
        who: Owner,
        what: "a protocol's title and tags",
    },
];

/// Why a change is refused by the rules.
pub const NOT_ALLOWED: &str = "the rules do not let its device change what it changes";
pub const BAD_CREATION: &str = "it creates the document under another author";

/// The rule for an op at `path` in a `kind` document.
pub fn rule_for(kind: &str, path: &[String]) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        (r.kinds.is_empty() && kind != "community" || r.kinds.contains(&kind))
            && r.path.len() <= path.len()
            && r.path.iter().zip(path).all(|(seg, p)| match seg {
                K(k) => p == k,
                OneOf(ks) => ks.contains(&p.as_str()),
                Any => true,
            })
    })
}

/// The device an object id's creating actor names ("counter@actor").
fn creator(obj: &ObjId) -> Option<Key> {
    let s = obj.to_string();
    let (_, actor) = s.split_once('@')?;
    let actor = automerge::ActorId::from(hex::decode(actor).ok()?);
    crate::changes::device_of(&actor)
}

/// The path from the root to `obj`, with the object at each step.
fn ancestry(doc: &AutoCommit, obj: &ObjId) -> Option<Vec<(String, ObjId)>> {
    if *obj == automerge::ROOT {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    let mut child = obj.clone();
    for p in doc.parents(obj).ok()? {
        let prop = match p.prop {
            Prop::Map(k) => k,
            Prop::Seq(i) => i.to_string(),
        };
        out.push((prop, child));
        child = p.obj;
    }
    out.reverse();
    Some(out)
}

/// Checks one new change against the rules. `doc` holds it (and whatever
/// else is being merged); `kind` is the document's kind; `owner` the
/// device that created the document (None: this change creates it);
/// `role` the role the signer writes it as ([`crate::changes::Standing`]).
pub fn check(
    doc: &mut AutoCommit,
    hash: &ChangeHash,
    kind: &str,
    owner: Option<Key>,
    signer: Key,
    role: Option<Role>,
) -> Result<(), &'static str> {
    let Some(change) = doc.get_change_by_hash(hash) else {
        return Err(NOT_ALLOWED);
    };
    let expanded: ExpandedChange = change.decode();
    let Some(owner) = owner else {
        // The creating change: its recorded author must be its signer,
        // and a community is created by its founder (an admin).
        let author_key = if kind == "community" {
            "created_by"
        } else {
            "author"
        };
        let recorded = expanded
            .operations
            .iter()
            .find(|op| {
                op.obj == automerge::legacy::ObjectId::Root
                    && matches!(&op.key, automerge::legacy::Key::Map(k) if k.as_str() == author_key)
            })
            .and_then(|op| op.primitive_value())
            .and_then(|v| v.as_str().map(str::to_string));
        if recorded != Some(hex::encode(signer))
            || (kind == "community" && role != Some(Role::Admin))
        {
            return Err(BAD_CREATION);
        }
        return Ok(());
    };
    for op in &expanded.operations {
        let obj = match &op.obj {
            automerge::legacy::ObjectId::Root => automerge::ROOT,
            automerge::legacy::ObjectId::Id(id) => doc
                .import_obj(&format!("{}@{}", id.0, id.1))
                .map_err(|_| NOT_ALLOWED)?,
        };
        let steps = ancestry(doc, &obj).ok_or(NOT_ALLOWED)?;
        let mut path: Vec<String> = steps.iter().map(|(p, _)| p.clone()).collect();
        let mut element_creator = None;
        match &op.key {
            automerge::legacy::Key::Map(k) => path.push(k.to_string()),
            automerge::legacy::Key::Seq(e) => {
                path.push("*".into());
                if let automerge::legacy::ElementId::Id(id) = e {
                    element_creator = crate::changes::device_of(&id.1);
                }
            }
        }
        let rule = rule_for(kind, &path).ok_or(NOT_ALLOWED)?;
        // A post names its author: it must be the device writing it.
        if path.len() == 3 && POSTS.contains(&path[0].as_str()) && path[2] == "author" {
            let named = op
                .primitive_value()
                .and_then(|v| v.as_str().map(str::to_string));
            if named != Some(hex::encode(signer)) {
                return Err(NOT_ALLOWED);
            }
        }
        // Removing or replacing a post (a list element, not an insert) is
        // its author's (or an admin's), not any member's.
        let who = if rule.who == Member
            && path.len() == 2
            && POSTS.contains(&path[0].as_str())
            && !op.insert
        {
            PostAuthor
        } else {
            rule.who
        };
        let ok = match who {
            Owner => signer == owner,
            Admin => role == Some(Role::Admin),
            Member => role.is_some(),
            Nobody => false,
            KeyHolder => path.get(rule.path.len() - 1) == Some(&hex::encode(signer)),
            PostAuthor => {
                let post = steps
                    .get(1)
                    .map(|(_, o)| creator(o))
                    .or(Some(element_creator));
                post.flatten() == Some(signer) || role == Some(Role::Admin)
            }
        };
        if !ok {
            return Err(NOT_ALLOWED);
        }
    }
    Ok(())
}
