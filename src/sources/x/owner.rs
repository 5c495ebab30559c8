//! The owner of an X archive: `account.js`, else `user_details.js`, else the id in the most DM
//! conversations, else the user the self-replies answer (docs/counting.md, *Owner*). Must not
//! build activities.

use std::collections::HashMap;

use serde::Deserialize;

use super::dms::DmStore;
use super::tweets::IdSet;
use super::{report_stream, stream_array};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::Activity;
use crate::sources::archive::{Archive, Entry};
use crate::sources::json::{Id, Lenient, read_value};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AccountItem {
    pub(super) account: Lenient<AccountFields>,
    /// Unwrapped items.
    #[serde(rename = "accountId")]
    pub(super) account_id: Id,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct AccountFields {
    pub(super) account_id: Id,
}

pub(super) fn read_account(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
) -> Result<Option<String>, SourceError> {
    let mut found: Option<String> = None;
    let streamed = archive.read(entry, |r| {
        stream_array(r, |_, item: Lenient<AccountItem>| {
            if found.is_none()
                && let Some(a) = item.0
            {
                found = a.account.0.and_then(|f| f.account_id.0).or(a.account_id.0);
            }
        })
    })?;
    report_stream(diag, &entry.name, streamed);
    if found.is_none() {
        diag.warn(
            &entry.name,
            None,
            "no accountId in account.js",
            String::new(),
        );
    }
    Ok(found)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UserDetails {
    pub(super) id: Id,
    pub(super) id_str: Id,
}

pub(super) fn read_user_details(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
) -> Result<Option<String>, SourceError> {
    let parsed = archive.read(entry, |r| read_value::<Lenient<UserDetails>>(r, true))?;
    match parsed {
        Ok(Lenient(Some(u))) => {
            let id = u.id_str.0.or(u.id.0);
            if id.is_none() {
                diag.warn(&entry.name, None, "no id in user_details.js", String::new());
            }
            Ok(id)
        }
        Ok(Lenient(None)) => {
            diag.warn(
                &entry.name,
                None,
                "user_details.js holds no object",
                String::new(),
            );
            Ok(None)
        }
        Err(message) => {
            diag.skip(&entry.name, None, "truncated or invalid JSON", message);
            Ok(None)
        }
    }
}

/// The user id present in the most DM conversations (docs/counting.md, *Owner*), with a warning.
pub(super) fn dms_owner(dms: &DmStore, diag: &mut Diagnostics) -> Option<(String, String)> {
    let mut conversations: HashMap<&str, u64> = HashMap::new();
    for people in dms.people.values() {
        for p in people {
            *conversations.entry(p.as_str()).or_default() += 1;
        }
    }
    let mut sent: HashMap<&str, u64> = HashMap::new();
    for row in &dms.rows {
        if let Some(s) = &row.sender {
            *sent.entry(s.as_str()).or_default() += 1;
        }
    }
    // Most conversations, then most messages sent, then the smallest id (determinism).
    let best = conversations.iter().max_by(|a, b| {
        a.1.cmp(b.1)
            .then_with(|| sent.get(a.0).cmp(&sent.get(b.0)))
            .then_with(|| b.0.cmp(a.0))
    });
    let (id, n) = best?;
    let total = dms.people.len();
    let tied = conversations.values().filter(|c| *c == n).count() - 1;
    let mut how = format!("the user id present in the most DM conversations ({n} of {total})");
    if tied > 0 {
        how.push_str(&format!(", tied with {tied} other id(s)"));
    }
    diag.warn(
        "account.js",
        None,
        "account.js missing: owner taken from direct messages",
        format!("{id}: {how}"),
    );
    Some((id.to_string(), how))
}

/// The owner of an archive without `account.js` or DMs (docs/counting.md, *Owner*, last fallback): the most
/// frequent `in_reply_to_user_id` of replies to tweets of the archive itself (an archive holds
/// only its owner's tweets, so those replies are self-replies). Ties: the smallest id.
pub(super) fn self_reply_owner(tweets: &[Activity], ids: &IdSet) -> Option<(String, String)> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for a in tweets {
        if let (Some(parent), Some(user)) = (a.hints.parent(), a.hints.parent_author())
            && ids.contains(parent)
        {
            *counts.entry(user).or_default() += 1;
        }
    }
    let (id, n) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| id_cmp_numeric(b.0, a.0)))?;
    Some((
        id.to_string(),
        format!(
            "the user replied to in {n} repl(ies) to tweets of the archive itself (no account.js)"
        ),
    ))
}

/// Smaller numeric id first; text ids after numbers.
pub(super) fn id_cmp_numeric(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}

/// With the owner known at last: replies to the owner are self-replies (the self-thread rule
/// decides them), and the owner is nobody's counterpart.
pub(super) fn mark_self_replies(tweets: &mut [Activity], owner: &str) {
    for a in tweets {
        if a.hints.parent_author() == Some(owner) {
            a.hints.parent_is_owner = true;
            a.hints.set_parent_author(None);
        }
        if a.counterparts.iter().any(|c| &**c == owner) {
            a.counterparts = a
                .counterparts
                .iter()
                .filter(|c| &***c != owner)
                .cloned()
                .collect();
        }
    }
}
