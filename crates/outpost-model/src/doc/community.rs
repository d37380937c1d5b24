//! Community documents: creating one, the profiles inside it, and reading
//! one back as a view. Membership is not here: it is a log of signed ops
//! of its own (`outpost-sync`'s `membership`), which no document edit can
//! touch.

use super::*;

/// Creates a community's document: `id` derives from the founder's signed
/// genesis op (kept in the membership log, not here); profiles live in the
/// `members` map.
pub fn new_community_doc(
    actor: ActorId,
    id: &CommunityId,
    founder: &MemberProfile,
    now: Millis,
    c: &NewCommunity,
) -> Result<CommunityDoc, SchemaError> {
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    let r = ROOT;
    doc.put(&r, "schema", SCHEMA)?;
    doc.put(&r, "kind", "community")?;
    doc.put(&r, "id", id.as_str())?;
    doc.put(&r, "name", c.name.as_str())?;
    put_text(&mut doc, &r, "domain", &c.domain)?;
    put_text(&mut doc, &r, "charter", c.charter.as_deref().unwrap_or(""))?;
    doc.put(&r, "created_by", device_hex(&actor).as_str())?;
    doc.put(&r, "created_at", now)?;
    doc.put(&r, "updated_at", now)?;
    doc.put_object(&r, "members", ObjType::Map)?;
    let mut cd = CommunityDoc { doc };
    cd.write_member(founder, Role::Admin, now)?;
    commit(&mut cd.doc, "create community", now);
    Ok(cd)
}

#[derive(Debug, Clone)]
pub struct CommunityDoc {
    doc: AutoCommit,
}

impl CommunityDoc {
    pub fn new(doc: AutoCommit) -> Result<Self, SchemaError> {
        let kind = req_str(&doc, &ROOT, "kind")?;
        if kind != "community" {
            return Err(SchemaError::WrongKind {
                expected: "community",
                actual: kind,
            });
        }
        Ok(Self { doc })
    }

    pub fn automerge(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    pub fn into_automerge(self) -> AutoCommit {
        self.doc
    }

    fn write_member(
        &mut self,
        p: &MemberProfile,
        role: Role,
        now: Millis,
    ) -> Result<(), SchemaError> {
        let members = child(&self.doc, &ROOT, "members")?;
        let key = device_hex(self.doc.get_actor());
        let m = match self.doc.get(&members, key.as_str())? {
            Some((Value::Object(ObjType::Map), id)) => id,
            _ => {
                let m = self.doc.put_object(&members, key.as_str(), ObjType::Map)?;
                self.doc.put(&m, "role", role.as_str())?;
                self.doc.put(&m, "joined_at", now)?;
                m
            }
        };
        self.doc.put(&m, "name", p.name.as_str())?;
        put_opt(&mut self.doc, &m, "profession", p.profession.as_deref())?;
        put_opt(&mut self.doc, &m, "region", p.region.as_deref())?;
        put_str_list(&mut self.doc, &m, "expertise", &p.expertise)?;
        self.doc.put(ROOT, "updated_at", now)?;
        Ok(())
    }

    /// Publishes (or refreshes) this document actor's profile in the community.
    pub fn set_own_profile(&mut self, p: &MemberProfile, now: Millis) -> Result<(), SchemaError> {
        self.write_member(p, Role::Member, now)?;
        commit(&mut self.doc, "update profile", now);
        Ok(())
    }

    pub fn read(&self) -> Result<Community, SchemaError> {
        read_community(&self.doc)
    }
}

/// Materializes a community from any document (checking its shape on the way).
pub fn read_community(d: &AutoCommit) -> Result<Community, SchemaError> {
    let r = ROOT;
    let members_obj = child(d, &r, "members")?;
    let mut members = Vec::new();
    for key in d.keys(&members_obj) {
        let Some((Value::Object(ObjType::Map), m)) = d.get(&members_obj, key.as_str())? else {
            continue;
        };
        let Ok(id) = key.parse() else {
            continue;
        };
        members.push(Member {
            name: opt_str(d, &m, "name").unwrap_or_default(),
            profession: opt_str(d, &m, "profession"),
            region: opt_str(d, &m, "region"),
            expertise: str_list(d, &m, "expertise").unwrap_or_default(),
            role: enum_field(d, &m, "role")?.unwrap_or(Role::Member),
            joined_at: int(d, &m, "joined_at").unwrap_or(0),
            id,
        });
    }
    members.sort_by_key(|m| m.joined_at);
    Ok(Community {
        id: req_id(d, &r, "id")?,
        name: req_str(d, &r, "name")?,
        domain: text(d, &r, "domain")?,
        charter: text(d, &r, "charter")?,
        created_by: req_id(d, &r, "created_by")?,
        created_at: int(d, &r, "created_at")?,
        updated_at: max_int(d, &r, "updated_at")?,
        members,
    })
}
