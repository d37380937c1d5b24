//! Sneakernet: a community's documents in one passphrase-encrypted file
//! (age), for sites with no link at all, and a plain Markdown copy of a
//! community's knowledge.

use crate::{CoreError, Outpost, Result, now_ms};
use outpost_model::{CommunityId, DeviceId};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The first bytes of a bundle's plaintext. 2: the membership log travels
/// beside the documents. 3: change signatures name their document.
const MAGIC: &[u8] = b"OUTPOST-BUNDLE-3\n";
/// What bundles written by earlier versions start with, and what changed.
const OLDER_MAGIC: &[(&[u8], &str)] = &[
    (
        b"OUTPOST-BUNDLE-1\n",
        "before membership became a signed log",
    ),
    (
        b"OUTPOST-BUNDLE-2\n",
        "before change signatures named their document",
    ),
];

/// What follows the magic: the postcard-encoded [`Bundle`], signed with the
/// exporting device's key. The passphrase keeps a bundle private; the
/// signature says which member wrote it (anyone with the passphrase could
/// otherwise pass off documents as a member's).
#[derive(Serialize, Deserialize)]
struct Signed<'a> {
    /// Borrowed on import: the decrypted bytes are not copied again.
    #[serde(borrow)]
    body: std::borrow::Cow<'a, [u8]>,
    signer: [u8; 32],
    signature: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Bundle {
    community: String,
    name: String,
    exported_by: String,
    exported_at: i64,
    /// The community's membership log (signed ops), each verified by the
    /// importer on its own merits.
    ops: Vec<Vec<u8>>,
    docs: Vec<BundleDoc>,
}

#[derive(Serialize, Deserialize)]
struct BundleDoc {
    id: String,
    kind: String,
    /// The whole Automerge document (saved).
    bytes: Vec<u8>,
    /// The signature of every change in it.
    sigs: Vec<outpost_sync::changes::ChangeSig>,
}

/// What [`Outpost::import_bundle`] did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    /// The community's id.
    pub community: CommunityId,
    /// The community's name.
    pub name: String,
    /// Documents in the bundle.
    pub documents: usize,
    /// Documents that brought something new here.
    pub changed: usize,
    /// Changes left out: not validly signed by a member's device (each is
    /// listed under the community's refused changes).
    pub refused: usize,
    /// The device id of the member who wrote it (its signer).
    pub exported_by: DeviceId,
    /// The exporter's name, as the community knows them.
    pub exported_by_name: Option<String>,
    /// When it was written (ms since the epoch).
    pub exported_at: i64,
}

/// What [`Outpost::export_bundle`] wrote.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// The community's id.
    pub community: CommunityId,
    /// The community's name.
    pub name: String,
    /// Documents written.
    pub documents: usize,
    /// Size of the encrypted file.
    pub bytes: usize,
}

/// Larger files are refused unread, and no bundle decrypts to more: a
/// community of 100,000 items is a few hundred MB. Importing holds the
/// file, its decrypted form and the decoded documents (about three times
/// this at most).
const MAX_BUNDLE_BYTES: u64 = 1 << 30;

/// Where a user's copies of the community `name` go unless they choose:
/// a bundle file and a folder for the readable copy, in their Documents
/// folder (else their home), named for the community and today.
pub fn suggested_export_paths(name: &str) -> (PathBuf, PathBuf) {
    let dir = dirs::document_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir);
    let name: String = name
        .chars()
        .map(|ch| {
            if "/\\:*?\"<>|".contains(ch) || ch.is_control() {
                '-'
            } else {
                ch
            }
        })
        .collect();
    let today = humantime::format_rfc3339(std::time::SystemTime::now()).to_string();
    let date = today.get(..10).unwrap_or_default();
    (
        dir.join(format!("{} {date}.outpost", name.trim())),
        dir.join(format!("{} {date} (readable copy)", name.trim())),
    )
}

/// Reads a bundle file: a clear error for a missing file, a folder, or
/// one too large to be a bundle.
pub fn read_bundle(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| bad_bundle(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(bad_bundle(format!(
            "{} is a folder, not a bundle",
            path.display()
        )));
    }
    if meta.len() > MAX_BUNDLE_BYTES {
        return Err(bad_bundle(format!(
            "{} is {} MB, too large to be an Outpost bundle",
            path.display(),
            meta.len() >> 20
        )));
    }
    std::fs::read(path).map_err(|e| bad_bundle(format!("cannot read {}: {e}", path.display())))
}

fn bad_bundle(why: impl std::fmt::Display) -> CoreError {
    CoreError::Bundle(format!("{why}; nothing was imported"))
}

impl Outpost {
    /// Encrypts every document of `community` with `passphrase` (age,
    /// scrypt) into one bundle.
    pub fn export_bundle(
        &self,
        id: &CommunityId,
        passphrase: &str,
    ) -> Result<(Vec<u8>, ExportSummary)> {
        crate::keys::check_new_passphrase(passphrase)?;
        let c = self.community(id)?;
        let mut docs = Vec::new();
        for (doc, kind) in self.store.docs_in(id)? {
            if let Some(mut d) = self.store.load_in(id, &doc)? {
                let sigs = self.store.sigs(&doc, None)?;
                docs.push(BundleDoc {
                    id: doc,
                    kind,
                    bytes: d.save(),
                    sigs,
                });
            }
        }
        let bundle = Bundle {
            community: id.to_string(),
            name: c.name.clone(),
            exported_by: self.key.public_hex(),
            exported_at: now_ms(),
            ops: self
                .store
                .op_log(id)?
                .into_iter()
                .map(|h| h.bytes)
                .collect(),
            docs,
        };
        let body = postcard::to_stdvec(&bundle).map_err(|e| CoreError::Bundle(e.to_string()))?;
        use ed25519_dalek::Signer;
        let signature = self.key.signing().sign(&body).to_bytes().to_vec();
        let signed = Signed {
            body: std::borrow::Cow::Borrowed(&body),
            signer: self.key.public(),
            signature,
        };
        let mut plain = MAGIC.to_vec();
        plain.extend(postcard::to_stdvec(&signed).map_err(|e| CoreError::Bundle(e.to_string()))?);
        let encryptor = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
            passphrase.to_string(),
        ));
        let mut out = Vec::new();
        let mut w = encryptor.wrap_output(&mut out)?;
        w.write_all(&plain)?;
        w.finish()?;
        let summary = ExportSummary {
            community: id.clone(),
            name: c.name,
            documents: bundle.docs.len(),
            bytes: out.len(),
        };
        Ok((out, summary))
    }

    /// Merges a bundle: all of it in one transaction, or nothing. Refused
    /// (nothing changed) when the passphrase is wrong, the file is damaged
    /// or cut short, or this device is not a member of its community.
    pub fn import_bundle(&mut self, bytes: &[u8], passphrase: &str) -> Result<ImportSummary> {
        let decryptor = age::Decryptor::new(bytes)
            .map_err(|e| bad_bundle(format!("not an Outpost bundle, or damaged ({e})")))?;
        let identity =
            age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase.to_string()));
        let mut reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                    bad_bundle("wrong passphrase for this bundle")
                }
                e => bad_bundle(format!("the bundle is damaged ({e})")),
            })?;
        let mut plain = Vec::new();
        (&mut reader)
            .take(MAX_BUNDLE_BYTES + 1)
            .read_to_end(&mut plain)
            .map_err(|e| bad_bundle(format!("the bundle is damaged or cut short ({e})")))?;
        if plain.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(bad_bundle(format!(
                "the bundle decrypts to more than {} MB, too large to be an Outpost bundle",
                MAX_BUNDLE_BYTES >> 20
            )));
        }
        if let Some((_, what)) = OLDER_MAGIC.iter().find(|(m, _)| plain.starts_with(m)) {
            return Err(bad_bundle(format!(
                "this bundle was made with an older Outpost, {what}; ask its sender to export \
                 it again with this version"
            )));
        }
        let body = plain
            .strip_prefix(MAGIC)
            .ok_or_else(|| bad_bundle("not an Outpost bundle"))?;
        let signed: Signed<'_> = postcard::from_bytes(body)
            .map_err(|e| bad_bundle(format!("the bundle is damaged ({e})")))?;
        let verified = ed25519_dalek::VerifyingKey::from_bytes(&signed.signer)
            .ok()
            .zip(ed25519_dalek::Signature::from_slice(&signed.signature).ok())
            .is_some_and(|(key, sig)| key.verify_strict(&signed.body, &sig).is_ok());
        if !verified {
            return Err(bad_bundle(
                "the bundle's signature does not match its contents",
            ));
        }
        let bundle: Bundle = postcard::from_bytes(&signed.body)
            .map_err(|e| bad_bundle(format!("the bundle is damaged ({e})")))?;
        let signer = hex::encode(signed.signer);
        if bundle.exported_by != signer {
            return Err(bad_bundle("the bundle's signature is not its exporter's"));
        }
        let exported_by = DeviceId::from_bytes(signed.signer);
        let community = CommunityId::parse(&bundle.community).map_err(bad_bundle)?;
        if let Some(bad) = bundle
            .docs
            .iter()
            .find(|d| !outpost_model::is_valid_id(&d.id))
        {
            let shown: String = bad.id.chars().take(80).collect();
            return Err(bad_bundle(format!("the bundle names a document {shown:?}")));
        }
        if !bundle
            .docs
            .iter()
            .any(|d| d.id == bundle.community && d.kind == "community")
        {
            return Err(bad_bundle("the bundle has no community document"));
        }
        let me = self.key.public_hex();
        let from = format!("bundle:{}", bundle.exported_by);
        let before: Vec<_> = bundle
            .docs
            .iter()
            .map(|d| self.store.heads(&d.id).unwrap_or_default())
            .collect();
        let mut refused_changes = 0;
        self.store.write(|w| -> Result<()> {
            // Membership first, from this home's own log plus the bundle's
            // ops, each verified on its own: never from anything the
            // bundle's documents say.
            w.add_ops(&community, &bundle.ops, Some(&from))?;
            if !w.is_member(&community, &signer)? {
                return Err(bad_bundle(format!(
                    "the bundle was written by device {}, which is not a member of '{}'",
                    &signer[..12],
                    bundle.name
                )));
            }
            if !w.is_member(&community, &me)? {
                return Err(CoreError::Bundle(format!(
                    "this bundle is for '{}', a community this device is not a member of; \
                     ask one of its admins to add you (outpost member add), then import a new bundle. \
                     Nothing was imported",
                    bundle.name
                )));
            }
            for doc in &bundle.docs {
                let sigs: std::collections::HashMap<&[u8; 32], &Vec<u8>> =
                    doc.sigs.iter().map(|s| (&s.hash, &s.sig)).collect();
                let sig_of = |h: &[u8; 32]| sigs.get(h).map(|s| (*s).clone());
                match w.merge_remote(&community, &doc.id, &doc.bytes, &from, &sig_of)? {
                    outpost_store::MergeOutcome::NotADocument => {
                        return Err(bad_bundle(format!(
                            "document {} does not belong to community {}",
                            doc.id, community
                        )));
                    }
                    outpost_store::MergeOutcome::Merged { refused } => refused_changes += refused,
                }
            }
            Ok(())
        })?;
        let changed = bundle
            .docs
            .iter()
            .zip(&before)
            .filter(|(d, b)| self.store.heads(&d.id).unwrap_or_default() != **b)
            .count();
        let exported_by_name = self
            .community(&community)?
            .members
            .into_iter()
            .find(|m| m.id == exported_by)
            .map(|m| m.name);
        Ok(ImportSummary {
            community,
            name: bundle.name,
            documents: bundle.docs.len(),
            changed,
            refused: refused_changes,
            exported_by,
            exported_by_name,
            exported_at: bundle.exported_at,
        })
    }

    /// [`Self::export_bundle`] into the file at `path` (written whole or
    /// not at all, readable only by this user).
    pub fn export_bundle_to(
        &self,
        community: &CommunityId,
        passphrase: &str,
        path: &Path,
    ) -> Result<ExportSummary> {
        let (bytes, summary) = self.export_bundle(community, passphrase)?;
        crate::home::write_atomic(path, &bytes)
            .map_err(|e| CoreError::Bundle(format!("cannot write {}: {e}", path.display())))?;
        Ok(summary)
    }

    /// [`Self::import_bundle`] from the file at `path`.
    pub fn import_bundle_from(&mut self, path: &Path, passphrase: &str) -> Result<ImportSummary> {
        self.import_bundle(&read_bundle(path)?, passphrase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(dir: &Path) -> Outpost {
        Outpost::init_with(
            dir,
            outpost_model::MemberProfile {
                name: "Dr Test".into(),
                ..Default::default()
            },
            &crate::Unlock::passphrase("test passphrase"),
        )
        .expect("init")
    }

    /// Re-encrypts a bundle's payload after `change` (what someone who
    /// knows the bundle passphrase could do).
    fn reseal(bundle: &[u8], change: impl FnOnce(&mut Signed<'_>)) -> Vec<u8> {
        let id = age::scrypt::Identity::new(age::secrecy::SecretString::from(
            "usb passphrase".to_string(),
        ));
        let mut plain = Vec::new();
        age::Decryptor::new(bundle)
            .expect("age")
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .expect("decrypt")
            .read_to_end(&mut plain)
            .expect("read");
        let mut signed: Signed<'_> = postcard::from_bytes(&plain[MAGIC.len()..]).expect("signed");
        change(&mut signed);
        let mut out_plain = MAGIC.to_vec();
        out_plain.extend(postcard::to_stdvec(&signed).expect("encode"));
        let enc = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
            "usb passphrase".to_string(),
        ));
        let mut out = Vec::new();
        let mut w = enc.wrap_output(&mut out).expect("wrap");
        w.write_all(&out_plain).expect("write");
        w.finish().expect("finish");
        out
    }

    #[test]
    fn forged_bundles_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let mut a = home(dir.path());
        let c = a
            .create_community(outpost_model::NewCommunity {
                name: "Valley".into(),
                domain: "Rural care".into(),
                charter: None,
            })
            .expect("community");
        let (bundle, _) = a.export_bundle(&c.id, "usb passphrase").expect("export");
        // A flipped byte in the signed body.
        let tampered = reseal(&bundle, |s| {
            let n = s.body.len();
            s.body.to_mut()[n - 1] ^= 1;
        });
        let err = a
            .import_bundle(&tampered, "usb passphrase")
            .expect_err("refused");
        assert!(
            err.to_string().contains("signature does not match"),
            "{err}"
        );
        // Signed by someone else: a valid signature, but not the exporter's.
        let other = crate::home::DeviceKey::generate().expect("key");
        let forged = reseal(&bundle, |s| {
            use ed25519_dalek::Signer;
            s.signer = other.public();
            s.signature = other.signing().sign(&s.body).to_bytes().to_vec();
        });
        let err = a
            .import_bundle(&forged, "usb passphrase")
            .expect_err("refused");
        assert!(err.to_string().contains("not its exporter"), "{err}");
        // The genuine one still imports (nothing new).
        let ok = a.import_bundle(&bundle, "usb passphrase").expect("import");
        assert_eq!(ok.changed, 0);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(crate::display_date(0), "1970-01-01");
        assert_eq!(crate::display_date(1_772_064_000_000), "2026-02-26");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            crate::markdown::slug("Chest pain: 54M, ?ACS"),
            "chest-pain-54m-acs"
        );
        assert_eq!(crate::markdown::slug("¿¿"), "item");
    }
}
