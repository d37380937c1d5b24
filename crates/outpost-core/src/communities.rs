//! Communities and profiles: founding a community, reading one with its
//! verified members, and this member's profile in each.

use crate::{CoreError, Denied, Outpost, PROFILE_KEY, Result, TargetKind, Whoami, now_ms};
use outpost_model::{
    Community, CommunityDoc, CommunityId, DeviceId, Member, MemberProfile, NewCommunity,
    new_community_doc,
};
use outpost_store::{CommunityRow, StoreError, Target};
use outpost_sync::membership;

impl Outpost {
    /// Changes this device's profile, here and in every community it belongs to.
    pub fn set_profile(&mut self, profile: MemberProfile) -> Result<Whoami> {
        profile.validate()?;
        let ids: Vec<CommunityId> = self
            .store
            .communities()?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let json = serde_json::to_string(&profile).map_err(|e| CoreError::Home(e.to_string()))?;
        let (me, me_hex) = (self.key.id(), self.key.public_hex());
        self.store.write(|w| -> Result<()> {
            for id in &ids {
                let mut loaded = w.load(id)?;
                let mut c = CommunityDoc::new(loaded.doc)?;
                if c.read()?.members.iter().any(|m| m.id == me) || w.is_member(id, &me_hex)? {
                    c.set_own_profile(&profile, now_ms())?;
                }
                loaded.doc = c.into_automerge();
                w.save(id, &mut loaded)?;
            }
            Ok(())
        })?;
        self.store.set_meta(PROFILE_KEY, &json)?;
        self.profile = profile;
        Ok(self.whoami())
    }

    // ------------------------------------------------------------ communities

    /// Founds a community: a genesis op signed by this device (from which
    /// the community id derives) makes it the first admin.
    pub fn create_community(&mut self, c: NewCommunity) -> Result<CommunityRow> {
        c.validate()?;
        let now = now_ms();
        let (id, genesis) =
            membership::genesis(self.key.signing(), &c.name, crate::random_bytes()?, now)?;
        let id = CommunityId::try_from(id)?;
        let mut doc = new_community_doc(self.actor.clone(), &id, &self.profile, now, &c)?;
        self.store.write(|w| -> Result<()> {
            w.add_ops(&id, &[genesis], None)?;
            w.insert(&id, "community", doc.automerge_mut())?;
            Ok(())
        })?;
        self.community_row(&id)
    }

    /// The communities held here, by name.
    pub fn communities(&self) -> Result<Vec<CommunityRow>> {
        Ok(self.store.communities()?)
    }

    fn community_row(&self, id: &CommunityId) -> Result<CommunityRow> {
        self.store
            .communities()?
            .into_iter()
            .find(|c| c.id == *id)
            .ok_or_else(|| StoreError::NotFound(id.to_string()).into())
    }

    /// Resolves what a user typed (a community id or a unique prefix of
    /// one) to the community's id. Front ends call this once, where the
    /// text comes in, and pass the id to the operations.
    pub fn resolve_community(&self, text: &str) -> Result<CommunityId> {
        match self.store.resolve(text)? {
            Target::Community(id) => Ok(id),
            other => Err(crate::read::wrong(text, TargetKind::Community, &other)),
        }
    }

    /// A community with its current members: who is a member (and with
    /// which role) comes from the verified membership ops; names and
    /// professions from the profiles members published.
    pub fn community(&self, id: &CommunityId) -> Result<Community> {
        let mut c = CommunityDoc::new(self.store.load(id)?)?.read()?;
        let profiles: std::collections::HashMap<DeviceId, Member> =
            c.members.drain(..).map(|m| (m.id, m)).collect();
        for (key, role) in self.store.members(id)? {
            let Ok(key) = DeviceId::parse(&key) else {
                continue;
            };
            let mut m = profiles.get(&key).cloned().unwrap_or_else(|| Member {
                id: key,
                name: format!("member {}", &key.to_hex()[..8]),
                profession: None,
                region: None,
                expertise: vec![],
                role,
                joined_at: 0,
            });
            m.role = role;
            c.members.push(m);
        }
        c.members.sort_by_key(|m| m.joined_at);
        Ok(c)
    }

    pub(crate) fn check_member(&self, community: &Community) -> Result<()> {
        let me = self.key.public_hex();
        if self.store.is_member(&community.id, &me)? {
            Ok(())
        } else {
            Err(Denied::NotAMember {
                community: community.name.clone(),
            }
            .into())
        }
    }

    /// Publishes this device's profile in a community it has joined.
    pub fn publish_profile(&mut self, c: &CommunityId) -> Result<()> {
        let profile = self.profile.clone();
        self.store.write(|w| -> Result<()> {
            let mut loaded = w.load(c)?;
            let mut doc = CommunityDoc::new(loaded.doc)?;
            doc.set_own_profile(&profile, now_ms())?;
            loaded.doc = doc.into_automerge();
            w.save(c, &mut loaded)?;
            Ok(())
        })
    }
}
