//! Facebook "Download your information" export (JSON; the old `posts/`, `comments_and_reactions/`,
//! `messages/` layout and the 2024+ `your_facebook_activity/` one) → Activities. Owns the
//! Facebook record rules (docs/counting.md, *Facebook*): posts are broadcast except a title
//! saying the owner wrote on someone's timeline (public conversation) or likes something
//! (passive), in English, Spanish and Polish; every comment is public conversation with an
//! unknown counterpart; reactions are passive. DM threads, mojibake and the owner are shared
//! with Instagram (`sources::meta`). Must not classify modes, touch Polars, the network or
//! stdout.

use serde::Deserialize;

use super::archive::{Archive, Entry};
use super::json::{Int, Lenient, List, Spec, Text, report_stream, stream_items};
use super::meta::{self, Ids, MetaFile, MetaFiles, Owners, repair};
use super::{ImportOptions, Importer, Sink};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Direction, Kind, Platform, Source};

/// The Facebook export importer.
pub struct FacebookExport;

impl Importer for FacebookExport {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }

    fn name(&self) -> &'static str {
        "Facebook export"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        let files = MetaFiles::of(archive)?;
        // Threads without any Instagram file are Messenger's.
        Ok(files.facebook()
            || (!files.instagram() && files.of_kind(MetaFile::Thread).next().is_some()))
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

/// A post, comment or reaction item: `timestamp` (Unix seconds), `title`, `data`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Item {
    timestamp: Int,
    title: Text,
    data: List<Lenient<Data>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Data {
    post: Text,
    comment: Lenient<Comment>,
    reaction: Lenient<Reaction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Comment {
    timestamp: Int,
    comment: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reaction {
    reaction: Text,
}

/// What a post's title says about it (docs/counting.md, *Facebook*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostTitle {
    /// Anything else: broadcast.
    Post,
    /// The owner wrote on another person's timeline: public conversation.
    Timeline,
    /// The owner likes something: passive.
    Likes,
}

/// Reads a post title (repaired). Recognised: English `… wrote on …'s timeline.` /
/// `… wrote on a timeline.`, Spanish `… ha escrito en la biografía de …`, Polish
/// `… napisał(a) na osi czasu …`; likes: `… likes …`, `… le gusta …`, `… lubi …`.
pub(crate) fn post_title(title: &str) -> PostTitle {
    let t = title.to_lowercase();
    let timeline = (t.contains(" wrote on ") && t.contains("timeline"))
        || t.contains(" ha escrito en la biografía de ")
        || t.contains(" napisał na osi czasu")
        || t.contains(" napisała na osi czasu")
        || t.contains(" napisał(a) na osi czasu");
    if timeline {
        return PostTitle::Timeline;
    }
    let padded = format!(" {t} ");
    if padded.contains(" likes ") || padded.contains(" le gusta ") || padded.contains(" lubi ") {
        return PostTitle::Likes;
    }
    PostTitle::Post
}

/// Items of a Facebook file: a top-level array, or the array under the file's key.
const ITEMS: Spec<'static> = Spec {
    items: &[
        "comments_v2",
        "comments",
        "group_comments_v2",
        "group_posts_v2",
        "reactions_v2",
    ],
    keep: &[],
    js_prefix: false,
};

fn seconds(t: Int) -> Option<i64> {
    t.0.filter(|s| *s > 0).map(|s| s.saturating_mul(1000))
}

/// Reads every Facebook post, comment and reaction file of the export into `acts`.
pub(crate) fn read_files(
    archive: &Archive,
    files: &MetaFiles<'_>,
    _owners: &Owners,
    acts: &mut Vec<Activity>,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let mut ids = Ids::with_capacity(files.content_records());
    for (entry, kind) in &files.files {
        let kind = *kind;
        if !matches!(
            kind,
            MetaFile::FacebookPosts
                | MetaFile::FacebookGroupPosts
                | MetaFile::FacebookComments
                | MetaFile::FacebookGroupComments
                | MetaFile::FacebookReactions
        ) {
            continue;
        }
        read_file(archive, entry, kind, &mut ids, acts, diag)?;
    }
    ids.finish(acts);
    Ok(())
}

fn read_file(
    archive: &Archive,
    entry: &Entry,
    kind: MetaFile,
    ids: &mut Ids,
    acts: &mut Vec<Activity>,
    diag: &mut Diagnostics,
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    let mut undated = 0u64;
    let streamed = archive.read(entry, |r| {
        stream_items(
            r,
            ITEMS,
            |i, item: Lenient<Item>| {
                let Some(item) = item.0 else { return };
                let title = item.title.0.as_deref().map(repair).unwrap_or_default();
                let first = item.data.0.iter().find_map(|d| d.0.as_ref());
                let (act_kind, prefix, text, at) = match kind {
                    MetaFile::FacebookComments | MetaFile::FacebookGroupComments => {
                        let c = item
                            .data
                            .0
                            .iter()
                            .find_map(|d| d.0.as_ref().and_then(|d| d.comment.0.as_ref()));
                        let at = seconds(item.timestamp)
                            .or_else(|| c.and_then(|c| seconds(c.timestamp)));
                        let text = c.and_then(|c| c.comment.0.clone()).unwrap_or_default();
                        (Kind::Comment, "fb-comment", text, at)
                    }
                    MetaFile::FacebookReactions => {
                        let r = first
                            .and_then(|d| d.reaction.0.as_ref())
                            .and_then(|r| r.reaction.0.clone())
                            .unwrap_or_default();
                        (Kind::Reaction, "fb-reaction", r, seconds(item.timestamp))
                    }
                    _ => {
                        let text = first.and_then(|d| d.post.0.clone()).unwrap_or_default();
                        (Kind::Post, "fb-post", text, seconds(item.timestamp))
                    }
                };
                if at.is_none() {
                    undated += 1;
                }
                let stamp = at.map(|t| t.to_string()).unwrap_or_default();
                let id = ids.id(prefix, &[&stamp, &title, &text], acts.len());
                let mut a = Activity::new(
                    Platform::Facebook,
                    id,
                    at,
                    Direction::Out,
                    act_kind,
                    source.clone(),
                );
                a.hints.seq = i;
                if kind == MetaFile::FacebookPosts {
                    match post_title(&title) {
                        PostTitle::Timeline => a.hints.addressed = true,
                        PostTitle::Likes => a.kind = Kind::Reaction,
                        PostTitle::Post => {}
                    }
                }
                acts.push(a);
            },
            |_, _| {},
        )
    })?;
    report_stream(diag, &entry.name, streamed, Some("array of items"));
    if undated > 0 {
        for _ in 0..undated {
            diag.warn(
                &entry.name,
                None,
                "missing or zero timestamp (counted as undated)",
                String::new(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_in_three_languages() {
        assert_eq!(
            post_title("Robin Example wrote on Sam Sample's timeline."),
            PostTitle::Timeline
        );
        assert_eq!(
            post_title("Robin Example wrote on a timeline."),
            PostTitle::Timeline
        );
        assert_eq!(
            post_title("Robin ha escrito en la biografía de Sam."),
            PostTitle::Timeline
        );
        assert_eq!(
            post_title("Robin napisał(a) na osi czasu użytkownika Sam."),
            PostTitle::Timeline
        );
        assert_eq!(post_title("Robin likes Sam's photo."), PostTitle::Likes);
        assert_eq!(post_title("A Robin le gusta una foto."), PostTitle::Likes);
        assert_eq!(post_title("Robin lubi zdjęcie."), PostTitle::Likes);
        assert_eq!(post_title("Robin updated his status."), PostTitle::Post);
        assert_eq!(
            post_title("Robin a écrit sur le journal de Sam."),
            PostTitle::Post
        );
        assert_eq!(post_title(""), PostTitle::Post);
    }
}
