//! The owner of a Mastodon archive: `actor.json` (its actor URI and followers collection), or
//! `--me`. Must not read statuses.

use serde::Deserialize;

use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::sources::archive::{Archive, Entry};
use crate::sources::json::{Ref, read_value};

/// The owner as far as statuses need it.
#[derive(Debug, Clone)]
pub(super) struct Me {
    /// Actor URI.
    pub(super) id: String,
    /// `id` + `/`: every URI under it is the owner's.
    pub(super) prefix: String,
    /// `scheme://host/` of the actor: own statuses live there.
    pub(super) origin: String,
    /// The followers collection (`actor.json` `followers`, else `<id>/followers`).
    pub(super) followers: String,
    /// `<id>/followers`, also accepted.
    pub(super) default_followers: String,
}

impl Me {
    pub(super) fn new(id: &str, followers: Option<&str>) -> Me {
        let id = id.trim_end_matches('/').to_string();
        let default_followers = format!("{id}/followers");
        let origin = match id.find("://") {
            Some(i) => match id[i + 3..].find('/') {
                Some(j) => id[..i + 3 + j + 1].to_string(),
                None => format!("{id}/"),
            },
            None => format!("{id}/"),
        };
        Me {
            prefix: format!("{id}/"),
            origin,
            followers: followers
                .map(str::to_string)
                .unwrap_or_else(|| default_followers.clone()),
            default_followers,
            id,
        }
    }

    pub(super) fn is_followers(&self, uri: &str) -> bool {
        uri == self.followers || uri == self.default_followers
    }

    /// True for a status URI that is certainly the owner's.
    pub(super) fn owns(&self, uri: &str) -> bool {
        uri.starts_with(&self.prefix)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawActor {
    pub(super) id: Ref,
    pub(super) followers: Ref,
}

pub(super) fn read_actor(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
) -> Result<Option<Me>, SourceError> {
    let parsed = archive.read(entry, |r| read_value::<RawActor>(r, false))?;
    match parsed {
        Ok(RawActor {
            id: Ref(Some(id)),
            followers,
        }) => Ok(Some(Me::new(&id, followers.0.as_deref()))),
        Ok(_) => {
            diag.warn(
                &entry.name,
                None,
                "actor.json without an id: the owner is taken from the outbox",
                String::new(),
            );
            Ok(None)
        }
        Err(message) => {
            diag.warn(
                &entry.name,
                None,
                "unreadable actor.json: the owner is taken from the outbox",
                message,
            );
            Ok(None)
        }
    }
}
