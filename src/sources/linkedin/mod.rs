//! LinkedIn "Get a copy of your data" export (zip or folder) → Activities. Owns every LinkedIn
//! format quirk and owner identification (docs/counting.md, *Owner*); must not classify modes
//! (it only sets hints), touch Polars, the network or stdout.
//!
//! Files are recognised by their header line, not their name (names vary between generations:
//! `Shares_123.csv`, `messages.csv`/`Messages.csv`, a top folder or not). Files are parsed in
//! parallel; messages and invitations are made activities as they are read, with what they
//! still need once the owner is known kept beside them in small rows.
//!
//! Layout: this file recognises the files and runs their parsers; `csv.rs` reads CSV records
//! (the Comments.csv line reader included), `rows.rs` turns records into rows and activities
//! (shared with the API fetcher through [`Record`] and [`RowSet`]), `people.rs` finds the
//! owner and assembles messages and invitations over whole conversations.

mod csv;
mod people;
mod rows;
#[cfg(test)]
mod tests;

use std::io::BufReader;
use std::mem::take;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::archive::{Archive, Entry};
use super::text::{decode, is_utf16};
use super::{ImportOptions, Importer, Sink};
use crate::error::SourceError;
use crate::model::Platform;
use crate::model::{Activity, Source};
use csv::{parse_records, skip_lines};
use people::assemble;
pub use rows::{Col, Record, RowKind};
use rows::{Handler, Parsed, article_activity};

/// The LinkedIn export importer.
pub struct LinkedInExport;

/// How many bytes of a file are searched for its header line (the Notes preamble comes first).
const HEAD_BYTES: usize = 64 * 1024;

/// What a file holds, decided from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Shares,
    Comments,
    Reactions,
    InstantReposts,
    Votes,
    /// `messages.csv`; `guide` for AI guide / coach / learning files (same header, excluded).
    Messages {
        guide: bool,
    },
    /// The 2018 generation: `From,To,Date,Subject,Content,Direction,Folder`.
    Messages2018,
    Invitations,
    Connections,
    /// `Profile.csv`: recognised (a Basic export holds little else), not read — display
    /// names never identify the owner.
    Profile,
    Article,
}

/// A recognised file: its kind and where its header is.
#[derive(Debug, Clone)]
struct Layout {
    kind: FileKind,
    /// Lines before the header (the Notes preamble, blank lines).
    header_line: usize,
    delimiter: u8,
    /// Lower-cased, trimmed column names.
    columns: Vec<String>,
    utf16: bool,
}

impl Layout {
    fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// A column name as rapport compares it: case, spaces and underscores ignored, so
/// `ShareLink`, `Share Link` (2018) and `share_link` are one column, as are `CONVERSATION ID`
/// and `conversationId`.
pub(crate) fn column_key(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{FEFF}')
        .trim_matches('"')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn header_cells(line: &str, delimiter: char) -> Vec<String> {
    line.split(delimiter).map(column_key).collect()
}

fn is_guide_name(basename: &str) -> bool {
    let n = basename.to_lowercase();
    n.contains("guide") || n.contains("coach") || n.contains("learning") || n.contains("role_play")
}

/// Decides the kind of a CSV from its header line (column keys, see [`column_key`]). Column
/// order never matters.
fn kind_of(columns: &[String], basename: &str) -> Option<FileKind> {
    let has = |n: &str| columns.iter().any(|c| c == n);
    if has("conversationid") && has("from") && has("date") {
        return Some(FileKind::Messages {
            guide: is_guide_name(basename),
        });
    }
    if has("sentat") && has("direction") {
        return Some(FileKind::Invitations);
    }
    if has("from") && has("to") && has("date") && has("direction") {
        return Some(FileKind::Messages2018);
    }
    if has("sharelink") && has("date") {
        return Some(FileKind::Shares);
    }
    if has("firstname") && has("lastname") && has("maidenname") {
        return Some(FileKind::Profile);
    }
    if has("firstname") && has("lastname") && (has("url") || has("connectedon")) {
        return Some(FileKind::Connections);
    }
    let named = |prefix: &str| basename.to_lowercase().starts_with(prefix);
    if has("date") && has("optiontext") {
        return Some(FileKind::Votes);
    }
    let non_empty = columns.iter().filter(|c| !c.is_empty()).count();
    // Some generations document Reactions as `Date,Type` only.
    if has("date") && has("type") && (has("link") || non_empty == 2) {
        return Some(FileKind::Reactions);
    }
    if has("date") && has("link") {
        if has("message") {
            return Some(FileKind::Comments);
        }
        // `Date,Link` alone is InstantReposts; extra columns are accepted when the name agrees.
        if non_empty == 2 || named("instantrepost") {
            return Some(FileKind::InstantReposts);
        }
    }
    None
}

fn is_article(entry: &Entry) -> bool {
    let lower = entry.name.to_lowercase();
    (lower.ends_with(".html") || lower.ends_with(".htm"))
        && lower.split('/').rev().skip(1).any(|d| d == "articles")
}

/// Finds the header line of a CSV in its first bytes.
fn sniff_layout(entry: &Entry, head: &[u8]) -> Option<Layout> {
    let utf16 = is_utf16(head);
    let text = decode(head);
    for (i, line) in text.lines().enumerate().take(200) {
        let tabs = line.matches('\t').count();
        let commas = line.matches(',').count();
        let delimiter = if tabs > commas { '\t' } else { ',' };
        let columns = header_cells(line, delimiter);
        if let Some(kind) = kind_of(&columns, entry.basename()) {
            return Some(Layout {
                kind,
                header_line: i,
                delimiter: delimiter as u8,
                columns,
                utf16,
            });
        }
    }
    None
}

impl Importer for LinkedInExport {
    fn platform(&self) -> Platform {
        Platform::LinkedIn
    }

    fn name(&self) -> &'static str {
        "LinkedIn export"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        for entry in archive.entries() {
            if !entry.name.to_lowercase().ends_with(".csv") {
                continue;
            }
            let head = archive.head(entry, HEAD_BYTES)?;
            if sniff_layout(entry, &head).is_some() {
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
        let mut files: Vec<(usize, &Entry, Layout)> = Vec::new();
        let mut ignored = 0usize;
        for entry in archive.entries() {
            let lower = entry.name.to_lowercase();
            if is_article(entry) {
                files.push((
                    files.len(),
                    entry,
                    Layout {
                        kind: FileKind::Article,
                        header_line: 0,
                        delimiter: b',',
                        columns: Vec::new(),
                        utf16: false,
                    },
                ));
                continue;
            }
            if !lower.ends_with(".csv") {
                ignored += 1;
                continue;
            }
            let head = archive.head(entry, HEAD_BYTES)?;
            match sniff_layout(entry, &head) {
                Some(layout) if layout.kind == FileKind::Profile => {}
                Some(layout) => files.push((files.len(), entry, layout)),
                None => ignored += 1,
            }
        }
        if ignored > 0 {
            sink.diag().note(format!(
                "{}: {ignored} file(s) hold no participation data and were not read",
                archive.path().display()
            ));
        }
        // Largest files first so the two workers finish together.
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(files[i].1.size));
        // Each file's room is reserved here, on the thread that frees it: a vector over 16 MiB
        // that mimalloc frees on another thread than its own is only marked free
        // (`MADV_FREE`), and the kernel keeps it resident until memory runs short.
        let rooms: Vec<Mutex<Parsed>> = files
            .iter()
            .map(|(_, entry, layout)| Mutex::new(room_for(entry, layout)))
            .collect();
        let next = AtomicUsize::new(0);
        let threads = options.threads.clamp(1, 16).min(files.len().max(1));
        let results: Vec<Result<Vec<(usize, Parsed)>, SourceError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            let Some(&i) = order.get(k) else { break };
                            let (idx, entry, layout) = &files[i];
                            let room = take(
                                &mut *rooms[i]
                                    .lock()
                                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                            );
                            let parsed = guarded(archive, entry, || {
                                parse_file(archive, entry, layout, *idx as u64, room)
                            });
                            out.push((*idx, parsed?));
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SourceError::Entry {
                            path: archive.path().to_path_buf(),
                            entry: "(parser thread)".into(),
                            message:
                                "a LinkedIn parser thread stopped unexpectedly; please report this"
                                    .into(),
                        })
                    })
                })
                .collect()
        });
        let mut by_file: Vec<(usize, Parsed)> = Vec::new();
        for r in results {
            by_file.extend(r?);
        }
        by_file.sort_by_key(|(i, _)| *i);

        // Activity vectors stay per file and are handed to the sink whole: copying a million
        // rows into one merged vector first costs time and doubles the peak memory.
        let mut all = Parsed::default();
        let mut batches = Vec::with_capacity(by_file.len());
        for (_, mut p) in by_file {
            batches.push(std::mem::take(&mut p.activities));
            all.merge(p);
        }
        assemble(all, batches, options, sink);
        Ok(())
    }
}

/// Runs the parser of one file. A parser bug must not drop a file silently (an empty result
/// with exit 0): a panic becomes an error naming the file.
fn guarded<T>(
    archive: &Archive,
    entry: &Entry,
    parse: impl FnOnce() -> Result<T, SourceError>,
) -> Result<T, SourceError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse))
        .unwrap_or_else(|panic| Err(parser_failed(archive, entry, &*panic)))
}

/// The error for a file whose parser panicked (a bug in rapport, not in the export).
fn parser_failed(
    archive: &Archive,
    entry: &Entry,
    panic: &(dyn std::any::Any + Send),
) -> SourceError {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    SourceError::Entry {
        path: archive.path().to_path_buf(),
        entry: entry.name.clone(),
        message: format!(
            "rapport failed while reading this file ({why}); nothing of it was counted — please report this with the file's header line"
        ),
    }
}

/// An empty set with room for the rows a file can hold (at most one per ~64 bytes).
fn room_for(entry: &Entry, layout: &Layout) -> Parsed {
    if layout.kind == FileKind::Article {
        return Parsed::default();
    }
    Parsed::with_room(layout.kind, (entry.size / 64).min(1 << 26) as usize)
}

/// Reads one file into `parsed` (empty, with the room [`room_for`] gives).
fn parse_file(
    archive: &Archive,
    entry: &Entry,
    layout: &Layout,
    file_idx: u64,
    mut parsed: Parsed,
) -> Result<Parsed, SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    if layout.kind == FileKind::Article {
        let html = archive.read(entry, |r| {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf)?;
            Ok(buf)
        })?;
        parsed
            .activities
            .push(article_activity(&html, entry, source));
        return Ok(parsed);
    }
    let seq_base = file_idx << 40;
    archive.read(entry, |r| {
        if layout.utf16 {
            // The 2018 export's UTF-16 files are small: decode them whole.
            let mut buf = Vec::new();
            r.read_to_end(&mut buf)?;
            let text = decode(&buf).into_owned();
            let mut reader = BufReader::new(text.as_bytes());
            let skipped = skip_lines(&mut reader, layout.header_line + 1)?;
            parse_records(reader, skipped, (layout, 0), &source, seq_base, &mut parsed)
        } else {
            let mut reader = BufReader::with_capacity(256 * 1024, r);
            let skipped = skip_lines(&mut reader, layout.header_line + 1)?;
            let file = (layout, entry.size);
            parse_records(reader, skipped, file, &source, seq_base, &mut parsed)
        }
    })?;
    Ok(parsed)
}

/// Records from somewhere other than an export's files (the Member Data Portability API),
/// read by the same row handlers and assembled by the same owner and message rules as an
/// export.
#[derive(Debug, Default)]
pub struct RowSet {
    parsed: Parsed,
    batches: Vec<Vec<Activity>>,
    files: u64,
}

impl RowSet {
    /// An empty set.
    pub fn new() -> RowSet {
        RowSet::default()
    }

    /// Reads `records` as rows of a `kind` file named `source`.
    pub fn add<'r>(
        &mut self,
        kind: RowKind,
        source: &str,
        records: impl IntoIterator<Item = &'r dyn Record>,
    ) {
        let mut handler = Handler::new(kind.file_kind(), Source::from(source), self.files << 40);
        self.files += 1;
        let mut parsed = Parsed::default();
        for r in records {
            handler.row(r, &mut parsed);
        }
        handler.finish(&mut parsed);
        self.batches.push(std::mem::take(&mut parsed.activities));
        self.parsed.merge(parsed);
    }

    /// Finds the owner and pushes every activity into the sink, as `read` does for an export.
    pub fn finish(self, options: &ImportOptions, sink: &mut dyn Sink) {
        assemble(self.parsed, self.batches, options, sink);
    }
}
