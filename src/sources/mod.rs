//! Export importers: one module per format behind the [`Importer`] trait, one registry table,
//! detection by content. Importers are synchronous, push [`Activity`] rows into a [`Sink`], and
//! count what they skip; they must not touch the network, Polars or stdout.

pub mod archive;
pub mod bluesky;
pub(crate) mod common;
pub mod facebook;
pub mod instagram;
pub(crate) mod json;
pub mod linkedin;
pub mod mastodon;
pub(crate) mod meta;
pub mod reddit;
pub mod text;
pub mod x;

use std::path::Path;

use crate::diag::Diagnostics;
use crate::error::SourceError;
pub use crate::model::Owner;
use crate::model::{Activity, Platform};
pub use archive::Archive;

/// Where importers put what they read (atuin's pattern: tests use [`Collected`]).
pub trait Sink {
    /// One normalized activity.
    fn push(&mut self, activity: Activity);
    /// Many activities at once (importers that collect per file hand over whole vectors,
    /// which avoids copying a million rows one by one).
    fn extend(&mut self, activities: Vec<Activity>) {
        for a in activities {
            self.push(a);
        }
    }
    /// A hint that about `additional` more activities will follow.
    fn reserve(&mut self, _additional: usize) {}
    /// Problems found while reading.
    fn diag(&mut self) -> &mut Diagnostics;
    /// The owner the importer identified, and how.
    fn owner(&mut self, owner: Owner);
}

/// Drops every activity whose (platform, id) an earlier one had: the same act from two
/// downloads of one account counts once. Returns how many were dropped. Each thread takes the
/// ids of a share of the hashes, sorts (hash, position) pairs and compares the ids of equal
/// hashes only: 16 bytes per activity (its hash and its pair), where a set of the ids took 50.
pub fn drop_duplicates(activities: &mut Vec<Activity>, threads: usize) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let before = activities.len();
    let parts = threads.clamp(1, 16) as u64;
    let hasher = rustc_hash::FxBuildHasher;
    let key_hash = |a: &Activity| {
        let mut h = hasher.build_hasher();
        a.platform.hash(&mut h);
        a.id.hash(&mut h);
        h.finish()
    };
    let acts: &[Activity] = activities;
    // Hashed in place, a share of the activities per thread (no per-chunk vectors to join).
    let mut hashes = vec![0u64; acts.len()];
    let share = acts.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (out, chunk) in hashes.chunks_mut(share).zip(acts.chunks(share)) {
            s.spawn(move || {
                for (h, a) in out.iter_mut().zip(chunk) {
                    *h = key_hash(a);
                }
            });
        }
    });
    let same =
        |i: usize, j: usize| acts[i].platform == acts[j].platform && acts[i].id == acts[j].id;
    let parts_list: Vec<u64> = (0..parts).collect();
    // Each part finds the repeats among the activities of its hashes. A part holds (low half
    // of the hash, position) pairs, 8 bytes each, in a vector of the exact size: the high half
    // chose the part, and equal low halves are told apart by their ids.
    let repeats: Vec<Vec<usize>> = common::map_in_order(&parts_list, threads, |&part| {
        let ours = |h: &u64| (*h >> 32) % parts == part;
        let mut mine: Vec<(u32, u32)> =
            Vec::with_capacity(hashes.iter().filter(|h| ours(h)).count());
        // Positions fit in 32 bits: four billion activities would not fit in memory.
        mine.extend(
            hashes
                .iter()
                .enumerate()
                .filter(|(_, h)| ours(h))
                .map(|(i, h)| (*h as u32, i as u32)),
        );
        // By hash, then position: within a hash, the first occurrence comes first.
        mine.sort_unstable();
        let mut repeats = Vec::new();
        for run in mine.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
            // Ids of one hash, kept so far (almost always one).
            let mut kept: Vec<usize> = Vec::new();
            for &(_, i) in run {
                let i = i as usize;
                if kept.iter().any(|&k| same(k, i)) {
                    repeats.push(i);
                } else {
                    kept.push(i);
                }
            }
        }
        repeats
    });
    drop(hashes);
    let mut keep = vec![true; before];
    for i in repeats.into_iter().flatten() {
        keep[i] = false;
    }
    let mut keep = keep.into_iter();
    activities.retain(|_| keep.next().unwrap_or(true));
    (before - activities.len()) as u64
}

/// Settings that importers need.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `--me` values: who the owner is, overriding detection. A value may name its platform
    /// (`x:12345`, `reddit:alice`); see [`ImportOptions::me_for`].
    pub me: Vec<String>,
    /// How many threads may parse files in parallel.
    pub threads: usize,
}

impl ImportOptions {
    /// The `--me` value for `platform`: one prefixed with the platform's name
    /// (`linkedin:`, `x:`, `facebook:`, …), else the first unprefixed one of the platform's
    /// shape — a LinkedIn profile URL for LinkedIn, digits for X (its numeric user id), an
    /// `http(s)` actor URI for Mastodon, a `did:` for Bluesky, and a plain name (no URL, not
    /// only digits) for Facebook, Instagram, Threads and Reddit.
    pub fn me_for(&self, platform: Platform) -> Option<&str> {
        let mut plain = Vec::new();
        for v in &self.me {
            let v = v.trim();
            if let Some((prefix, rest)) = v.split_once(':')
                && let Some(p) = Platform::from_name(prefix)
            {
                if p == platform && !rest.trim().is_empty() {
                    return Some(rest.trim());
                }
                continue;
            }
            plain.push(v);
        }
        plain.into_iter().find(|v| {
            let url = v.starts_with("http://") || v.starts_with("https://");
            let linkedin = text::normalize_linkedin_url(v).is_some();
            let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            match platform {
                Platform::LinkedIn => linkedin,
                Platform::X => digits,
                Platform::Mastodon => url && !linkedin,
                Platform::Bluesky => v.starts_with("did:"),
                _ => !url && !linkedin && !digits && !v.starts_with("did:") && !v.is_empty(),
            }
        })
    }
}

/// A sink that keeps everything in memory.
#[derive(Debug, Default)]
pub struct Collected {
    /// Activities in arrival order.
    pub activities: Vec<Activity>,
    /// Problems found.
    pub diagnostics: Diagnostics,
    /// Owners identified.
    pub owners: Vec<Owner>,
}

impl Sink for Collected {
    fn push(&mut self, activity: Activity) {
        self.activities.push(activity);
    }
    fn extend(&mut self, mut activities: Vec<Activity>) {
        if self.activities.is_empty() && activities.capacity() >= self.activities.capacity() {
            std::mem::swap(&mut self.activities, &mut activities);
        }
        self.activities.append(&mut activities);
    }
    fn reserve(&mut self, additional: usize) {
        self.activities.reserve_exact(additional);
    }
    fn diag(&mut self) -> &mut Diagnostics {
        &mut self.diagnostics
    }
    fn owner(&mut self, owner: Owner) {
        self.owners.push(owner);
    }
}

/// One export format.
pub trait Importer: Sync {
    /// The platform this format belongs to.
    fn platform(&self) -> Platform;
    /// A human name ("LinkedIn export").
    fn name(&self) -> &'static str;
    /// Whether the archive holds this format (looks at names and the first bytes of files).
    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError>;
    /// Reads every activity of the archive into the sink.
    fn read(
        &self,
        archive: &Archive,
        options: &ImportOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), SourceError>;
}

/// Every supported format. Adding a format = one module + one row here.
pub static IMPORTERS: &[&dyn Importer] = &[
    &linkedin::LinkedInExport,
    &mastodon::MastodonArchive,
    &bluesky::BlueskyRepo,
    &x::XArchive,
    &instagram::InstagramExport,
    &facebook::FacebookExport,
    &reddit::RedditExport,
];

/// The platforms whose posts, comments and reactions come in a Meta export (one Accounts
/// Center download can hold several): every Meta importer reads all of them.
pub(crate) static META_CONTENT: &[meta::ContentReader] =
    &[facebook::read_files, instagram::read_files];

/// Opens `path` and finds the importer that recognises its content.
pub fn detect(
    path: &Path,
    max_inflated: u64,
) -> Result<(Archive, &'static dyn Importer), SourceError> {
    let archive = Archive::open(path, max_inflated)?;
    for importer in IMPORTERS {
        if importer.sniff(&archive)? {
            return Ok((archive, *importer));
        }
    }
    let detail = if archive.entries().is_empty() {
        "the archive is empty".to_string()
    } else {
        let names: Vec<&str> = archive
            .entries()
            .iter()
            .take(5)
            .map(|e| e.name.as_str())
            .collect();
        format!(
            "{} file(s), none with a known header, e.g. {}",
            archive.entries().len(),
            names.join(", ")
        )
    };
    Err(SourceError::Unrecognised {
        path: path.to_path_buf(),
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Kind};

    #[test]
    fn drop_duplicates_keeps_the_first_of_each_platform_and_id() {
        let act = |p: Platform, id: String, seq: u64| {
            let mut a = Activity::new(
                p,
                id,
                None,
                Direction::Out,
                Kind::Post,
                crate::model::Source::from("t"),
            );
            a.hints.seq = seq;
            a
        };
        // Enough ids for every part of every thread count to hold some.
        let mut acts = Vec::new();
        for i in 0..3000u64 {
            acts.push(act(Platform::X, format!("id{}", i % 1000), i));
        }
        acts.push(act(Platform::Mastodon, "id1".into(), 9999));
        for threads in [1, 2, 3] {
            let mut v = acts.clone();
            assert_eq!(drop_duplicates(&mut v, threads), 2000);
            assert_eq!(v.len(), 1001);
            // The first of each id survives, in order; the same id on another platform too.
            assert!(
                v[..1000]
                    .iter()
                    .enumerate()
                    .all(|(i, a)| a.hints.seq == i as u64)
            );
            assert_eq!(v[1000].platform, Platform::Mastodon);
        }
    }
}
