//! The owner of a Meta export (docs/counting.md, *Facebook*, *Instagram*): `--me NAME`; the
//! profile files (`profile_information.json`'s full name, Instagram's `personal_information.json`
//! name and username); else, from the DM threads, the participant of the most threads when that
//! is one person; else the one-to-one threads whose folder is named after one participant.
//! Never guessed beyond that. Must not build activities.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{MetaFile, MetaFiles, name_key, repair};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Owner, Platform};
use crate::sources::ImportOptions;
use crate::sources::archive::Archive;
use crate::sources::json::{Lenient, List, OneOrMany, StringMap, Text, read_value};

/// A name key and how it was found.
type Found = (String, String);

/// The owners of one Meta export, per platform.
#[derive(Debug, Default)]
pub(crate) struct Owners {
    /// Facebook: the name key the DMs are compared with, when known before the threads.
    facebook: Option<Found>,
    /// Instagram DMs: the name key.
    instagram: Option<Found>,
    /// Instagram (and Threads) username, lower case, for comments and replies.
    username: Option<String>,
    /// What the threads decided, per platform (name key or `None`, and how).
    decided: BTreeMap<Platform, (Option<String>, String)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FacebookProfile {
    profile_v2: Lenient<ProfileV2>,
    profile: Lenient<ProfileV2>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProfileV2 {
    name: Lenient<ProfileName>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProfileName {
    full_name: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InstagramProfile {
    profile_user: OneOrMany<Lenient<StringMapItem>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StringMapItem {
    pub(crate) string_map_data: Lenient<StringMap>,
    pub(crate) title: Text,
    pub(crate) string_list_data: List<Lenient<StringListEntry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StringListEntry {
    pub(crate) value: Text,
    pub(crate) href: Text,
    pub(crate) timestamp: crate::sources::json::Int,
}

/// The `value` of a `string_map_data` field, repaired.
pub(crate) fn map_value(map: &StringMap, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| map.get(k))
        .and_then(|f| f.value.as_deref())
        .map(|v| repair(v.trim()))
        .filter(|v| !v.is_empty())
}

impl Owners {
    /// `--me` and the profile files.
    pub fn read(
        archive: &Archive,
        files: &MetaFiles<'_>,
        options: &ImportOptions,
        diag: &mut Diagnostics,
    ) -> Result<Owners, SourceError> {
        let mut owners = Owners::default();
        let given = |p| {
            options
                .me_for(p)
                .map(|n| (name_key(n), "given with --me".to_string()))
        };
        owners.facebook = given(Platform::Facebook);
        owners.instagram = given(Platform::Instagram);
        for entry in files.of_kind(MetaFile::FacebookProfile) {
            let parsed = archive.read(entry, |r| read_value::<FacebookProfile>(r, false))?;
            match parsed {
                Ok(p) => {
                    let name = p
                        .profile_v2
                        .0
                        .or(p.profile.0)
                        .and_then(|p| p.name.0)
                        .and_then(|n| n.full_name.0)
                        .map(|n| name_key(&n))
                        .filter(|n| !n.is_empty());
                    if owners.facebook.is_none()
                        && let Some(n) = name
                    {
                        owners.facebook = Some((n, format!("full name in {}", entry.name)));
                    }
                }
                Err(message) => {
                    diag.warn(&entry.name, None, "unreadable profile file", message);
                }
            }
        }
        for entry in files.of_kind(MetaFile::InstagramProfile) {
            let parsed = archive.read(entry, |r| read_value::<InstagramProfile>(r, false))?;
            let Ok(p) = parsed else {
                diag.warn(&entry.name, None, "unreadable profile file", String::new());
                continue;
            };
            let Some(map) = p
                .profile_user
                .0
                .into_iter()
                .find_map(|u| u.0.and_then(|u| u.string_map_data.0))
            else {
                continue;
            };
            if owners.username.is_none() {
                owners.username =
                    map_value(&map, &["Username", "Gebruikersnaam", "Nombre de usuario"])
                        .map(|u| u.trim_start_matches('@').to_lowercase());
            }
            if owners.instagram.is_none()
                && let Some(n) = map_value(&map, &["Name", "Naam", "Nombre"])
            {
                owners.instagram = Some((name_key(&n), format!("name in {}", entry.name)));
            }
        }
        Ok(owners)
    }

    /// The Instagram username (lower case), when the export holds it.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The owner's name key for the DMs of `platform` known before the threads.
    pub fn known(&self, platform: Platform) -> Option<&Found> {
        match platform {
            Platform::Instagram => self.instagram.as_ref(),
            _ => self.facebook.as_ref(),
        }
    }

    /// Records what the threads decided for `platform`.
    pub fn decide(&mut self, platform: Platform, owner: Option<String>, how: String) {
        self.decided.insert(platform, (owner, how));
    }

    /// The owners to report.
    pub fn report(&self) -> Vec<Owner> {
        let mut out: Vec<Owner> = self
            .decided
            .iter()
            .map(|(p, (id, how))| Owner {
                platform: *p,
                id: id.clone(),
                how: how.clone(),
            })
            .collect();
        if let Some(u) = &self.username {
            for p in [Platform::Instagram, Platform::Threads] {
                if !self.decided.contains_key(&p) {
                    out.push(Owner {
                        platform: p,
                        id: Some(u.clone()),
                        how: "username in personal_information.json".into(),
                    });
                }
            }
        }
        out.sort_by_key(|o| o.platform);
        out
    }
}
