//! Instagram "Download your information" export (JSON) → Activities, Threads included (it sits
//! inside the Instagram export). Owns the Instagram and Threads record rules (docs/counting.md,
//! *Instagram*, *Threads*): own posts, reels and stories are broadcast; comments are public
//! conversation with the media owner (`ig:<username>`, unknown on the owner's own media); likes
//! are passive; a Threads reply is conversation with `threads:<username>`, a self-thread when
//! that is the owner, unknown without one; other Threads posts are broadcast. DM threads,
//! mojibake and the owner are shared with Facebook (`sources::meta`). Must not classify modes,
//! touch Polars, the network or stdout.

use std::sync::Arc;

use serde::Deserialize;

use super::archive::{Archive, Entry};
use super::json::{
    Flag, Int, Lenient, List, OneOrMany, Spec, StringMap, Text, report_stream, stream_items,
};
use super::meta::{self, Ids, MetaFile, MetaFiles, Owners, repair};
use super::{ImportOptions, Importer, Sink};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Confidence, Direction, Interner, Kind, Platform, Source};

/// The Instagram (and Threads) export importer.
pub struct InstagramExport;

impl Importer for InstagramExport {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn name(&self) -> &'static str {
        "Instagram export"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        Ok(MetaFiles::of(archive)?.instagram())
    }

    fn read(
        &self,
        archive: &Archive,
        options: &ImportOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        meta::read(archive, options, sink, super::META_CONTENT)
    }
}

/// A post, reel, story or Threads item.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MediaItem {
    creation_timestamp: Int,
    title: Text,
    uri: Text,
    media: List<Lenient<Media>>,
    text_app_post: Lenient<TextAppPost>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Media {
    uri: Text,
    creation_timestamp: Int,
    title: Text,
    text_app_post: Lenient<TextAppPost>,
}

/// Threads' reply facts (on the item, else on its first media).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TextAppPost {
    is_reply: Flag,
    in_reply_to_username: Text,
}

/// A comment or like: `string_map_data` (comments) or `title` + `string_list_data` (likes).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MapItem {
    string_map_data: Lenient<StringMap>,
    title: Text,
    string_list_data: OneOrMany<Lenient<ListEntry>>,
    timestamp: Int,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListEntry {
    href: Text,
    value: Text,
    timestamp: Int,
}

/// The arrays of the Instagram and Threads files.
const ITEMS: Spec<'static> = Spec {
    items: &[
        "ig_reels_media",
        "ig_stories",
        "comments_reels_comments",
        "likes_media_likes",
        "likes_comment_likes",
        "text_post_app_text_posts",
        "text_post_app_media_likes",
    ],
    keep: &[],
    js_prefix: false,
};

fn seconds(t: Int) -> Option<i64> {
    t.0.filter(|s| *s > 0).map(|s| s.saturating_mul(1000))
}

/// The keys a comment's time is under (English, Dutch).
const TIME_KEYS: &[&str] = &["Time", "Tijd"];
/// The keys of a comment's text.
const COMMENT_KEYS: &[&str] = &["Comment", "Opmerking", "Reactie"];
/// The keys of a comment's media owner.
const MEDIA_OWNER_KEYS: &[&str] = &["Media Owner", "Eigenaar van media", "Media-eigenaar"];

/// The `timestamp` of a `string_map_data` field: the time keys first, else any field's.
fn map_time(map: &StringMap) -> Option<i64> {
    TIME_KEYS
        .iter()
        .find_map(|k| map.get(k).and_then(|f| f.timestamp))
        .or_else(|| map.fields().find_map(|f| f.timestamp))
        .filter(|t| *t > 0)
        .map(|t| t.saturating_mul(1000))
}

/// Reads every Instagram and Threads post, comment and like file into `acts`. `username` is
/// the owner's (lower case), for comments on the owner's own media and self-replies.
pub(crate) fn read_files(
    archive: &Archive,
    files: &MetaFiles<'_>,
    owners: &Owners,
    acts: &mut Vec<Activity>,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let username = owners.username();
    let mut ids = Ids::with_capacity(files.content_records());
    for (entry, kind) in &files.files {
        match kind {
            MetaFile::InstagramPosts | MetaFile::InstagramReels | MetaFile::InstagramStories => {
                read_media(
                    archive,
                    entry,
                    Platform::Instagram,
                    &mut ids,
                    None,
                    acts,
                    diag,
                )?
            }
            MetaFile::ThreadsPosts => read_media(
                archive,
                entry,
                Platform::Threads,
                &mut ids,
                Some(username),
                acts,
                diag,
            )?,
            MetaFile::InstagramComments | MetaFile::InstagramReelComments => {
                read_comments(archive, entry, username, &mut ids, acts, diag)?
            }
            MetaFile::InstagramLikes => {
                read_likes(archive, entry, Platform::Instagram, &mut ids, acts, diag)?
            }
            MetaFile::ThreadsLikes => {
                read_likes(archive, entry, Platform::Threads, &mut ids, acts, diag)?
            }
            _ => {}
        }
    }
    ids.finish(acts);
    Ok(())
}

/// Posts, reels and stories (broadcast), or Threads posts (`threads` = the owner's username,
/// for the reply rules).
fn read_media(
    archive: &Archive,
    entry: &Entry,
    platform: Platform,
    ids: &mut Ids,
    threads: Option<Option<&str>>,
    acts: &mut Vec<Activity>,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    let streamed = archive.read(entry, |r| {
        stream_items(
            r,
            ITEMS,
            |i, item: Lenient<MediaItem>| {
                let Some(item) = item.0 else { return };
                let first = item.media.0.iter().find_map(|m| m.0.as_ref());
                let at = seconds(item.creation_timestamp)
                    .or_else(|| first.and_then(|m| seconds(m.creation_timestamp)));
                let text = item
                    .title
                    .0
                    .clone()
                    .or_else(|| first.and_then(|m| m.title.0.clone()))
                    .map(|t| repair(&t))
                    .unwrap_or_default();
                let uri = item
                    .uri
                    .0
                    .clone()
                    .or_else(|| first.and_then(|m| m.uri.0.clone()))
                    .unwrap_or_default();
                let stamp = at.map(|t| t.to_string()).unwrap_or_default();
                let prefix = match platform {
                    Platform::Threads => "threads-post",
                    _ => "ig-post",
                };
                let id = ids.id(prefix, &[&stamp, &uri, &text], acts.len());
                let mut a =
                    Activity::new(platform, id, at, Direction::Out, Kind::Post, source.clone());
                a.hints.seq = i;
                if let Some(owner) = threads {
                    let reply = item
                        .text_app_post
                        .0
                        .as_ref()
                        .or_else(|| first.and_then(|m| m.text_app_post.0.as_ref()));
                    if let Some(r) = reply.filter(|r| r.is_reply.0 == Some(true)) {
                        thread_reply(&mut a, r.in_reply_to_username.0.as_deref(), owner);
                    }
                }
                acts.push(a);
            },
            |_, _| {},
        )
    })?;
    report_stream(diag, &entry.name, streamed, Some("array of items"));
    Ok(())
}

/// A Threads reply (docs/counting.md, *Threads*): to the owner → self-thread (the chain has no
/// parent in the export, so it ends there); to someone → conversation with them; to nobody
/// named → conversation with an unknown counterpart. `to` is the username replied to. Shared
/// by the export and the API (`fetch::threads`).
pub(crate) fn thread_reply(a: &mut Activity, to: Option<&str>, owner: Option<&str>) {
    a.kind = Kind::Reply;
    let to = to
        .map(|u| repair(u.trim()).trim_start_matches('@').to_lowercase())
        .filter(|u| !u.is_empty());
    match to {
        Some(u) if Some(u.as_str()) == owner => a.hints.parent_is_owner = true,
        Some(u) => {
            let who = format!("threads:{u}");
            a.counterparts = vec![Arc::from(who.as_str())].into();
            a.hints.set_parent_author(Some(who));
        }
        None => {}
    }
}

/// Comments on posts and reels: public conversation with the media owner.
fn read_comments(
    archive: &Archive,
    entry: &Entry,
    username: Option<&str>,
    ids: &mut Ids,
    acts: &mut Vec<Activity>,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    // One shared id per media owner, for all their comments.
    let mut media_owners = Interner::default();
    let streamed = archive.read(entry, |r| {
        stream_items(
            r,
            ITEMS,
            |i, item: Lenient<MapItem>| {
                let Some(map) = item.0.and_then(|m| m.string_map_data.0) else {
                    return;
                };
                let at = map_time(&map);
                let text = meta::map_value(&map, COMMENT_KEYS).unwrap_or_default();
                let media_owner = meta::map_value(&map, MEDIA_OWNER_KEYS)
                    .map(|o| o.trim_start_matches('@').to_lowercase());
                let stamp = at.map(|t| t.to_string()).unwrap_or_default();
                let id = ids.id(
                    "ig-comment",
                    &[&stamp, &text, media_owner.as_deref().unwrap_or("")],
                    acts.len(),
                );
                let mut a = Activity::new(
                    Platform::Instagram,
                    id,
                    at,
                    Direction::Out,
                    Kind::Comment,
                    source.clone(),
                );
                a.hints.seq = i;
                if let Some(o) = media_owner.filter(|o| Some(o.as_str()) != username) {
                    a.counterparts = vec![media_owners.get(&format!("ig:{o}"))].into();
                    a.confidence = Confidence::High;
                }
                acts.push(a);
            },
            |_, _| {},
        )
    })?;
    report_stream(diag, &entry.name, streamed, Some("array of items"));
    Ok(())
}

/// Liked posts, comments and threads: passive, dated by `string_list_data[0].timestamp`.
fn read_likes(
    archive: &Archive,
    entry: &Entry,
    platform: Platform,
    ids: &mut Ids,
    acts: &mut Vec<Activity>,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    let streamed = archive.read(entry, |r| {
        stream_items(
            r,
            ITEMS,
            |i, item: Lenient<MapItem>| {
                let Some(item) = item.0 else { return };
                let first = item.string_list_data.0.iter().find_map(|e| e.0.as_ref());
                let at = first
                    .and_then(|e| seconds(e.timestamp))
                    .or_else(|| seconds(item.timestamp))
                    .or_else(|| item.string_map_data.0.as_ref().and_then(map_time));
                let href = first.and_then(|e| e.href.0.clone()).unwrap_or_default();
                let value = first.and_then(|e| e.value.0.clone()).unwrap_or_default();
                let title = item.title.0.as_deref().map(repair).unwrap_or_default();
                let stamp = at.map(|t| t.to_string()).unwrap_or_default();
                let prefix = match platform {
                    Platform::Threads => "threads-like",
                    _ => "ig-like",
                };
                let id = ids.id(prefix, &[&stamp, &title, &href, &value], acts.len());
                let mut a = Activity::new(
                    platform,
                    id,
                    at,
                    Direction::Out,
                    Kind::Reaction,
                    source.clone(),
                );
                a.hints.seq = i;
                acts.push(a);
            },
            |_, _| {},
        )
    })?;
    report_stream(diag, &entry.name, streamed, Some("array of items"));
    Ok(())
}
