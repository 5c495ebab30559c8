//! What Facebook and Instagram ("Download your information", JSON) exports share: mojibake
//! repair and name keys, recognising files by their JSON shape, Messenger-style threads (both
//! products write DMs the same way), the owner chain, and one reading pass over an archive
//! that hands each file to the rules of its platform (`sources::facebook`,
//! `sources::instagram`). Must not hold a platform's classification rules, touch Polars, the
//! network or stdout (docs/counting.md, *Facebook*, *Instagram*, *Threads*).
//!
//! Files are recognised by shape, not name: the keys of a top-level object (`comments_v2`,
//! `participants` + `messages`, `text_post_app_text_posts`, …) or of the first item of a
//! top-level array (`media`, `string_map_data`, a `reaction` under `data`, …), read from the
//! first bytes of every `.json` file. Exports may be split over several zips: each part is
//! read on its own and parts of one account merge by id (ids come from content, never from
//! the download's file names).

mod owner;
pub(crate) mod threads;

use std::sync::Arc;

use unicode_normalization::UnicodeNormalization as _;

use super::archive::{Archive, Entry};
use super::common::number_repeats;
use super::text::{fix_mojibake, hash64, short_hash_id};
use super::{ImportOptions, Sink};
use crate::error::SourceError;
use crate::model::{Activity, ActivityId, Platform};
pub(crate) use owner::{Owners, map_value};

/// Bytes of a `.json` file read to recognise its shape.
const HEAD_BYTES: usize = 16 * 1024;

/// A string of a Meta export, repaired: UTF-8 bytes written as `\u00XX` each become the
/// character they encode ("Ren\u00c3\u00a9" → "René"); text that is not such mojibake is
/// kept as it is.
pub(crate) fn repair(s: &str) -> String {
    fix_mojibake(s).into_owned()
}

/// A display name as a key (docs/counting.md, *People*): repaired, NFC, lower case, runs of
/// whitespace collapsed.
pub(crate) fn name_key(s: &str) -> String {
    let fixed = fix_mojibake(s.trim());
    let nfc: String = fixed.nfc().collect();
    nfc.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A person named by display name: `name:<key>`.
pub(crate) fn name_person(key: &str) -> Arc<str> {
    Arc::from(format!("name:{key}"))
}

/// What a Meta file holds, from its JSON shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetaFile {
    /// Facebook `your_posts_N.json` (a top-level array of posts).
    FacebookPosts,
    /// Facebook group posts (`group_posts_v2`).
    FacebookGroupPosts,
    /// Facebook comments (`comments_v2`, older `comments`).
    FacebookComments,
    /// Facebook group comments (`group_comments_v2`).
    FacebookGroupComments,
    /// Facebook reactions (`likes_and_reactions_N.json` arrays, `reactions_v2`).
    FacebookReactions,
    /// Facebook `profile_information.json` (`profile_v2` / `profile`).
    FacebookProfile,
    /// A Messenger-style thread (`participants` + `messages`), Facebook or Instagram.
    Thread,
    /// Instagram `content/posts_N.json` (items with `media`).
    InstagramPosts,
    /// Instagram reels (`ig_reels_media`).
    InstagramReels,
    /// Instagram stories (`ig_stories`).
    InstagramStories,
    /// Instagram post comments (arrays of `string_map_data` items).
    InstagramComments,
    /// Instagram reel comments (`comments_reels_comments`).
    InstagramReelComments,
    /// Instagram likes (`likes_media_likes`, `likes_comment_likes`).
    InstagramLikes,
    /// Instagram `personal_information.json` (`profile_user`).
    InstagramProfile,
    /// Threads posts and replies (`text_post_app_text_posts`).
    ThreadsPosts,
    /// Threads likes (`text_post_app_media_likes`).
    ThreadsLikes,
}

impl MetaFile {
    /// True for the files only an Instagram export holds.
    pub(crate) fn is_instagram(self) -> bool {
        matches!(
            self,
            MetaFile::InstagramPosts
                | MetaFile::InstagramReels
                | MetaFile::InstagramStories
                | MetaFile::InstagramComments
                | MetaFile::InstagramReelComments
                | MetaFile::InstagramLikes
                | MetaFile::InstagramProfile
                | MetaFile::ThreadsPosts
                | MetaFile::ThreadsLikes
        )
    }

    /// True for the files only a Facebook export holds.
    pub(crate) fn is_facebook(self) -> bool {
        matches!(
            self,
            MetaFile::FacebookPosts
                | MetaFile::FacebookGroupPosts
                | MetaFile::FacebookComments
                | MetaFile::FacebookGroupComments
                | MetaFile::FacebookReactions
                | MetaFile::FacebookProfile
        )
    }
}

/// The shape of the start of a JSON file: a top-level object's keys, or a top-level array and
/// the keys of its first item (and of the objects inside that item, one level down).
#[derive(Debug, Default, PartialEq)]
struct HeadShape {
    array: bool,
    /// Top-level object keys, or the first array item's keys.
    keys: Vec<String>,
    /// Keys one level deeper (inside the first item's values).
    inner: Vec<String>,
}

/// Reads the shape of a JSON file from its first bytes, without parsing it whole (the head
/// is usually cut in the middle of a value). Linear in the head's length.
fn head_shape(head: &[u8]) -> Option<HeadShape> {
    let text = String::from_utf8_lossy(head);
    let b = text.trim_start_matches('\u{feff}').as_bytes();
    let start = b.iter().position(|c| !c.is_ascii_whitespace())?;
    let mut shape = HeadShape::default();
    // Depth of the object whose keys are collected: 1 = the top object, 2 = an array's item.
    let base = match b[start] {
        b'{' => 1,
        b'[' => {
            shape.array = true;
            2
        }
        _ => return None,
    };
    // Open brackets; in an object, whether the next string is a key.
    let mut stack: Vec<u8> = Vec::new();
    let mut expecting_key = false;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let from = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if expecting_key {
                    let key = String::from_utf8_lossy(&b[from..i.min(b.len())]).into_owned();
                    let depth = stack.len();
                    if depth == base {
                        shape.keys.push(key);
                    } else if depth > base && depth <= base + 2 {
                        shape.inner.push(key);
                    }
                }
                expecting_key = false;
            }
            c @ (b'{' | b'[') => {
                stack.push(c);
                expecting_key = c == b'{';
            }
            b'}' | b']' => {
                stack.pop();
                if stack.is_empty() || (shape.array && stack.len() == 1) {
                    break; // the top object, or the first array item, is complete
                }
            }
            b',' => expecting_key = stack.last() == Some(&b'{'),
            _ => {}
        }
        i += 1;
    }
    Some(shape)
}

/// What a `.json` file is, from its head (its name only breaks a tie between two array
/// shapes that look alike).
pub(crate) fn meta_file(entry: &Entry, head: &[u8]) -> Option<MetaFile> {
    let shape = head_shape(head)?;
    let has = |k: &str| shape.keys.iter().any(|x| x == k);
    let inner = |k: &str| shape.inner.iter().any(|x| x == k);
    if !shape.array {
        let kind = if has("participants") && has("messages") {
            MetaFile::Thread
        } else if has("text_post_app_text_posts") {
            MetaFile::ThreadsPosts
        } else if has("text_post_app_media_likes") {
            MetaFile::ThreadsLikes
        } else if has("comments_reels_comments") {
            MetaFile::InstagramReelComments
        } else if has("likes_media_likes") || has("likes_comment_likes") {
            MetaFile::InstagramLikes
        } else if has("ig_reels_media") {
            MetaFile::InstagramReels
        } else if has("ig_stories") {
            MetaFile::InstagramStories
        } else if has("profile_user") {
            MetaFile::InstagramProfile
        } else if has("group_comments_v2") {
            MetaFile::FacebookGroupComments
        } else if has("group_posts_v2") {
            MetaFile::FacebookGroupPosts
        } else if has("comments_v2") || (has("comments") && shape.keys.len() == 1) {
            MetaFile::FacebookComments
        } else if has("reactions_v2") {
            MetaFile::FacebookReactions
        } else if has("profile_v2") || (has("profile") && inner("name")) {
            MetaFile::FacebookProfile
        } else {
            return None;
        };
        return Some(kind);
    }
    // A top-level array: the first item decides.
    if has("string_map_data") {
        return Some(MetaFile::InstagramComments);
    }
    if has("media") && !has("data") {
        return Some(MetaFile::InstagramPosts);
    }
    if has("timestamp") && (has("data") || has("title") || has("attachments")) {
        let name = entry.basename().to_ascii_lowercase();
        return Some(
            if inner("reaction") || name.starts_with("likes_and_reactions") {
                MetaFile::FacebookReactions
            } else {
                MetaFile::FacebookPosts
            },
        );
    }
    None
}

/// The Meta files of an archive and what each is.
pub(crate) struct MetaFiles<'a> {
    /// Recognised files, in archive order.
    pub files: Vec<(&'a Entry, MetaFile)>,
    /// `.json` files that are none of these (settings, ads, …), for the note.
    pub other: usize,
}

/// `…/messages/<box>/<thread>/message_<n>.json` (lower case): a Messenger or Instagram DM thread.
fn is_thread_path(lower: &str) -> bool {
    let parts: Vec<&str> = lower.split('/').collect();
    let n = parts.len();
    n >= 4
        && parts[n - 4] == "messages"
        && parts[n - 1]
            .strip_prefix("message_")
            .and_then(|b| b.strip_suffix(".json"))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
}

impl<'a> MetaFiles<'a> {
    /// Looks at every `.json` file's head — but a DM thread's `messages/…/message_N.json` is
    /// known by its path (an export holds thousands of them, and they are read whole later).
    pub fn of(archive: &'a Archive) -> Result<MetaFiles<'a>, SourceError> {
        let mut files = Vec::new();
        let mut other = 0;
        for entry in archive.entries() {
            let lower = entry.name.to_ascii_lowercase();
            if !lower.ends_with(".json") {
                continue;
            }
            if is_thread_path(&lower) {
                files.push((entry, MetaFile::Thread));
                continue;
            }
            let head = archive.head(entry, HEAD_BYTES)?;
            match meta_file(entry, &head) {
                Some(kind) => files.push((entry, kind)),
                None => other += 1,
            }
        }
        Ok(MetaFiles { files, other })
    }

    /// True when the archive holds Instagram files (its DM threads are then Instagram's).
    pub fn instagram(&self) -> bool {
        self.files.iter().any(|(_, k)| k.is_instagram())
            || self.files.iter().any(|(e, _)| {
                e.name
                    .to_ascii_lowercase()
                    .contains("your_instagram_activity/")
            })
    }

    /// True when the archive holds Facebook files.
    pub fn facebook(&self) -> bool {
        self.files.iter().any(|(_, k)| k.is_facebook())
            || self.files.iter().any(|(e, _)| {
                e.name
                    .to_ascii_lowercase()
                    .contains("your_facebook_activity/")
            })
    }

    /// Room to reserve for the ids of the posts, comments and reactions: a record takes at
    /// least ~100 bytes of JSON.
    pub fn content_records(&self) -> usize {
        let bytes: u64 = self
            .files
            .iter()
            .filter(|(_, k)| *k != MetaFile::Thread)
            .map(|(e, _)| e.size)
            .sum();
        (bytes / 100).min(1 << 26) as usize
    }

    /// The files of one kind.
    pub fn of_kind(&self, kind: MetaFile) -> impl Iterator<Item = &'a Entry> + '_ {
        self.files
            .iter()
            .filter(move |(_, k)| *k == kind)
            .map(|(e, _)| *e)
    }
}

/// Which platform a DM thread belongs to (docs/counting.md, *Facebook*): Instagram when it
/// sits under `your_instagram_activity/` or the export holds other Instagram files.
pub(crate) fn thread_platform(entry: &Entry, instagram_export: bool) -> Platform {
    let lower = entry.name.to_ascii_lowercase();
    if lower.contains("your_instagram_activity/") || instagram_export {
        Platform::Instagram
    } else {
        Platform::Facebook
    }
}

/// Ids from content: the same record in two downloads gets the same id, identical records
/// in one source stay distinct (`#2`, `#3`). The repeats are numbered in [`Ids::finish`],
/// from the hashes sorted once: a map of a million hashes, probed per record, was most of
/// the cost of a Meta export's ids.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    /// The hash of every id made, and the index of its activity.
    made: Vec<(u64, usize)>,
}

impl Ids {
    /// Room for `n` ids.
    pub fn with_capacity(n: usize) -> Ids {
        Ids {
            made: Vec::with_capacity(n),
        }
    }

    /// `prefix:<hash of parts>` for the activity that will be `acts[index]`; `finish` adds
    /// `#n` to the n-th identical record.
    pub fn id(&mut self, prefix: &str, parts: &[&str], index: usize) -> ActivityId {
        let (id, h) = content_id(prefix, parts);
        self.record(h, index);
        id
    }

    /// Notes the hash of an id made by [`content_id`] for the activity `acts[index]`.
    pub fn record(&mut self, hash: u64, index: usize) {
        self.made.push((hash, index));
    }

    /// Numbers the repeats: the n-th activity (in push order) whose content hash another
    /// one had already gets `#n`.
    pub fn finish(self, acts: &mut [Activity]) {
        number_repeats(self.made, |i, repeat| {
            if let Some(a) = acts.get_mut(i) {
                a.suffix_id(repeat);
            }
        });
    }
}

/// `prefix:<hash of parts>` and the hash (no repeat number: see [`Ids`]). The hash is cut to
/// the 60 bits the id shows, so that repeats are numbered by what the ids say.
pub(crate) fn content_id(prefix: &str, parts: &[&str]) -> (ActivityId, u64) {
    let h = hash64(parts) & ((1 << 60) - 1);
    (short_hash_id(prefix, h), h)
}

/// One platform's reader of its posts, comments and reactions in a Meta export (the
/// `META_CONTENT` table of `sources`).
pub(crate) type ContentReader = fn(
    &Archive,
    &MetaFiles<'_>,
    &Owners,
    &mut Vec<Activity>,
    &mut crate::diag::Diagnostics,
) -> Result<(), SourceError>;

/// Reads everything Meta in `archive`: posts, comments and reactions by each platform's
/// `readers`, then every DM thread with the owner found by the chain of docs/counting.md
/// (*Facebook*, *Instagram*).
pub(crate) fn read(
    archive: &Archive,
    options: &ImportOptions,
    sink: &mut dyn Sink,
    readers: &[ContentReader],
) -> Result<(), SourceError> {
    let files = MetaFiles::of(archive)?;
    if let Some(damage) = archive.damage() {
        sink.diag().warn(
            &archive.path().display().to_string(),
            None,
            "damaged archive: files after the damage were not read",
            damage.to_string(),
        );
    }
    if files.other > 0 {
        sink.diag().note(format!(
            "{}: {} file(s) hold no participation data and were not read",
            archive.path().display(),
            files.other
        ));
    }
    let mut owners = Owners::read(archive, &files, options, sink.diag())?;
    // Room for every record (an upper bound from the files' sizes), so the vector is not
    // copied again and again while it grows.
    let bytes: u64 = files.files.iter().map(|(e, _)| e.size).sum();
    let mut acts: Vec<Activity> = Vec::with_capacity((bytes / 96).min(1 << 26) as usize);
    // The DM threads (thousands of small files) are read while the posts, comments and
    // reactions (a few large ones) are: each leaves the other's idle moments to it.
    let (content, threads) = std::thread::scope(|s| {
        let threads = s.spawn(|| {
            let mut diag = crate::diag::Diagnostics::default();
            let threads = threads::read_all(archive, &files, options.threads, &mut diag);
            (threads, diag)
        });
        let content = readers
            .iter()
            .try_for_each(|read| read(archive, &files, &owners, &mut acts, sink.diag()));
        (content, threads.join())
    });
    content?;
    let (threads, diag) = threads.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    sink.diag().merge(diag);
    let threads = threads?;
    threads::push(
        threads,
        &mut owners,
        &mut acts,
        options.threads,
        sink.diag(),
    );
    for o in owners.report() {
        sink.owner(o);
    }
    sink.extend(acts);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> Entry {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x");
        std::fs::create_dir_all(&path).expect("mkdir");
        std::fs::write(path.join(name), "{}").expect("write");
        let a = Archive::open(dir.path(), u64::MAX).expect("open");
        a.entries()[0].clone()
    }

    #[test]
    fn mojibake_names_are_repaired_and_keyed() {
        assert_eq!(
            repair("Ren\u{c3}\u{a9} \u{f0}\u{9f}\u{98}\u{80}"),
            "René 😀"
        );
        assert_eq!(name_key(" Ren\u{c3}\u{a9}   DUPONT "), "rené dupont");
        assert_eq!(repair("café"), "café");
    }

    #[test]
    fn files_are_recognised_by_shape() {
        let e = entry("anything.json");
        let kind = |s: &str| meta_file(&e, s.as_bytes());
        assert_eq!(
            kind(r#"{"participants": [{"name": "A"}], "messages": [{"sender_name": "A"#),
            Some(MetaFile::Thread)
        );
        assert_eq!(
            kind(r#"{"comments_v2": [{"timestamp": 1, "data": [{"comment": {"#),
            Some(MetaFile::FacebookComments)
        );
        assert_eq!(
            kind(r#"[{"timestamp": 1, "data": [{"post": "hi"}], "title": "A updated"#),
            Some(MetaFile::FacebookPosts)
        );
        assert_eq!(
            kind(r#"[{"timestamp": 1, "data": [{"reaction": {"reaction": "LIKE"}}], "ti"#),
            Some(MetaFile::FacebookReactions)
        );
        assert_eq!(
            kind(r#"[{"media": [{"uri": "x", "creation_timestamp": 1}]}, {"me"#),
            Some(MetaFile::InstagramPosts)
        );
        assert_eq!(
            kind(r#"[{"string_map_data": {"Comment": {"value": "hi"}, "Media Owner"#),
            Some(MetaFile::InstagramComments)
        );
        assert_eq!(
            kind(r#"{"text_post_app_text_posts": [{"media": [{"title": "x"#),
            Some(MetaFile::ThreadsPosts)
        );
        assert_eq!(
            kind(r#"{"profile_user": [{"string_map_data": {"Username""#),
            Some(MetaFile::InstagramProfile)
        );
        assert_eq!(kind(r#"{"ads_interests_v2": ["a"]}"#), None);
        assert_eq!(kind("not json"), None);
    }

    #[test]
    fn content_ids_are_stable_and_repeats_distinct() {
        let make = |ids: &mut Ids, acts: &mut Vec<Activity>, text: &str| {
            let id = ids.id("fb-post", &["1", text], acts.len());
            acts.push(Activity::new(
                Platform::Facebook,
                id,
                None,
                crate::model::Direction::Out,
                crate::model::Kind::Post,
                crate::model::Source::from("t"),
            ));
        };
        let (mut a, mut b) = (Ids::default(), Ids::default());
        let (mut first, mut second) = (Vec::new(), Vec::new());
        for text in ["hello", "other", "hello", "hello"] {
            make(&mut a, &mut first, text);
        }
        make(&mut b, &mut second, "hello");
        a.finish(&mut first);
        b.finish(&mut second);
        let x = &*second[0].id;
        assert!(x.starts_with("fb-post:"));
        let ids: Vec<&str> = first.iter().map(|a| &*a.id).collect();
        assert_eq!(ids[0], x);
        assert_eq!(ids[2], format!("{x}#2"));
        assert_eq!(ids[3], format!("{x}#3"));
        assert!(!ids[1].contains('#') && ids[1] != x);
    }
}
