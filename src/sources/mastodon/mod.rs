//! Mastodon account archive (`archive-….tar.gz`, a zip, or the extracted folder) → Activities.
//! Owns every Mastodon format quirk and owner identification (docs/counting.md,
//! *Owner*); must not classify modes (it only sets kind, hints, participants and counterparts),
//! touch Polars, the network or stdout.
//!
//! Files are found by basename at any depth: `actor.json` (the owner and their followers
//! collection), `outbox.json` (every status and boost, unsorted, any visibility) and
//! `likes.json` (bare status URIs, undated). `bookmarks.json`, media, avatar and header are
//! listed but never read.
//!
//! `outbox.json` can reach a gigabyte, so it is streamed: a visitor walks the top-level
//! collection and deserializes `orderedItems` one element at a time into a small typed struct
//! (unknown keys skipped, values of unexpected types taken as absent, only the first bytes of
//! `content` kept), which becomes a compact [`Status`] and, in most cases, an `Activity` at once.
//! Two cases wait until the whole file was read: a reply whose parent is on the owner's own
//! server but not under the owner's actor URI (it may still be one of the outbox's own
//! statuses, which come in any order), and a private message with no `conversation`/`context`
//! that replies to something (its thread root is found through the other waiting messages).
//! Without `actor.json` (lost from a truncated archive: Mastodon writes it last) every status
//! waits until the most frequent `actor` of the outbox is known. Ids seen are kept as 128-bit
//! hashes, not strings.
//!
//! Damage: a truncated tar.gz, or an outbox that stops being JSON, keeps every item read before
//! the damage and reports where it stopped.
//!
//! Layout: `owner.rs` finds the owner (`actor.json`), `items.rs` streams the outbox into
//! compact statuses, `rules.rs` holds the mapping of a status to an Activity that the API
//! fetcher (`fetch::mastodon`) shares.

mod items;
mod owner;
mod rules;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use super::archive::{Archive, Entry};
use super::json::{Ref, report_stream, stream_items};
use super::{ImportOptions, Importer, Sink};
use crate::error::SourceError;
use crate::model::{Activity, Direction, Kind, Platform, Source};
use items::{State, hash128, read_outbox};
use owner::{Me, read_actor};
pub(crate) use rules::{StatusFacts, leading_tokens, status_activity};

/// The Mastodon account archive importer.
pub struct MastodonArchive;

/// Bytes read from `outbox.json` / `actor.json` to recognise them.
const HEAD_BYTES: usize = 4096;

impl Importer for MastodonArchive {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    fn name(&self) -> &'static str {
        "Mastodon account archive"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        for entry in archive.entries() {
            if entry.basename().eq_ignore_ascii_case("outbox.json")
                && looks_like_outbox(&archive.head(entry, HEAD_BYTES)?)
            {
                return Ok(true);
            }
        }
        for entry in archive.entries() {
            if entry.basename().eq_ignore_ascii_case("actor.json")
                && looks_like_actor(&archive.head(entry, HEAD_BYTES)?)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn read(
        &self,
        archive: &Archive,
        options: &ImportOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        let path = archive.path().display().to_string();
        if let Some(damage) = archive.damage() {
            sink.diag().warn(
                &path,
                None,
                "damaged archive: files after the damage were not read",
                damage.to_string(),
            );
        }
        let mut actors: Vec<&Entry> = Vec::new();
        let mut outboxes: Vec<&Entry> = Vec::new();
        let mut likes: Vec<&Entry> = Vec::new();
        let mut ignored = 0usize;
        for entry in archive.entries() {
            let base = entry.basename().to_ascii_lowercase();
            match base.as_str() {
                "actor.json" => actors.push(entry),
                "outbox.json" => outboxes.push(entry),
                "likes.json" => likes.push(entry),
                _ => ignored += 1,
            }
        }
        // The shallowest file first (an archive inside a folder of other things).
        for list in [&mut actors, &mut outboxes, &mut likes] {
            list.sort_by(|a, b| (a.depth(), &a.name).cmp(&(b.depth(), &b.name)));
        }
        if ignored > 0 {
            sink.diag().note(format!(
                "{path}: {ignored} file(s) (media, bookmarks, avatar, …) hold no participation data and were not read"
            ));
        }

        // 1. The owner: `--me`, else actor.json.
        let mut me: Option<Me> = options
            .me_for(Platform::Mastodon)
            .map(|id| Me::new(id, None));
        let mut how = "given with --me";
        for entry in &actors {
            if me.is_none() {
                me = read_actor(archive, entry, sink.diag())?;
                how = "id in actor.json";
            }
        }

        // 2. Statuses and boosts.
        let mut state = State::new(me, how);
        for entry in &outboxes {
            read_outbox(archive, entry, &mut state, sink)?;
        }
        state.finish(sink);

        // 3. Likes: passive, undated.
        let mut seen = HashSet::new();
        for entry in &likes {
            read_likes(archive, entry, &mut seen, sink)?;
        }
        Ok(())
    }
}

/// An `outbox.json` head: a JSON object that mentions the ordered collection.
fn looks_like_outbox(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{FEFF}').trim_start();
    t.starts_with('{') && (t.contains("\"orderedItems\"") || t.contains("\"OrderedCollection\""))
}

/// An `actor.json` head: a JSON object whose `type` is `Person` or `Service`.
fn looks_like_actor(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{FEFF}').trim_start();
    if !t.starts_with('{') {
        return false;
    }
    let mut rest = t;
    while let Some(i) = rest.find("\"type\"") {
        let after = rest[i + 6..].trim_start();
        if let Some(value) = after.strip_prefix(':') {
            let value = value.trim_start();
            if value.starts_with("\"Person\"") || value.starts_with("\"Service\"") {
                return true;
            }
        }
        rest = &rest[i + 6..];
    }
    false
}

fn read_likes(
    archive: &Archive,
    entry: &Entry,
    seen: &mut HashSet<u128>,
    sink: &mut dyn Sink,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    let streamed = archive.read(entry, |r| {
        let each = |seq, Ref(uri)| {
            let Some(uri) = uri else {
                sink.diag().skip(
                    &source,
                    Some(seq + 1),
                    "like without a status URI",
                    String::new(),
                );
                return;
            };
            let id = format!("like:{uri}");
            if !seen.insert(hash128(&id)) {
                return;
            }
            let mut a = Activity::new(
                Platform::Mastodon,
                id,
                None,
                Direction::Out,
                Kind::Reaction,
                source.clone(),
            );
            a.hints.seq = seq;
            sink.push(a);
        };
        stream_items(r, items::COLLECTION, each, |_, _| {})
    })?;
    report_stream(sink.diag(), &source, streamed, Some("orderedItems array"));
    Ok(())
}
