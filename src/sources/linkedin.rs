//! LinkedIn "Get a copy of your data" export (zip or folder) → Activities. Owns every LinkedIn
//! format quirk and owner identification (docs/counting.md, *Owner*); must not classify modes
//! (it only sets hints), touch Polars, the network or stdout.
//!
//! Files are recognised by their header line, not their name (names vary between generations:
//! `Shares_123.csv`, `messages.csv`/`Messages.csv`, a top folder or not). Files are parsed in
//! parallel; messages and invitations are kept as rows until the owner is known.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::io::{self, BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::archive::{Archive, Entry};
use super::text::{
    decode, fnv64, is_normalized_linkedin_url, is_placeholder, is_utf16, name_key,
    normalize_linkedin_url, parse_datetime,
};
use super::{ImportOptions, Importer, Owner, Sink};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Confidence, Direction, Exclusion, Kind, Platform};

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

/// A message row, kept until the owner is known.
#[derive(Debug, Clone)]
struct MessageRow {
    conversation: Arc<str>,
    /// The sender's name key (`text::name_key`); empty for a deleted account.
    from: String,
    sender_url: Option<Arc<str>>,
    /// Kept only when the row has no recipient URL (names are then all we have).
    to: String,
    recipient_urls: Vec<Arc<str>>,
    at: Option<i64>,
    draft: bool,
    guide: bool,
    id: String,
    seq: u64,
    source: Arc<str>,
}

/// A 2018-generation message row.
#[derive(Debug, Clone)]
struct Message2018Row {
    /// Name key of `From`.
    from: String,
    to: String,
    at: Option<i64>,
    outgoing: bool,
    id: String,
    seq: u64,
    source: Arc<str>,
}

#[derive(Debug, Clone)]
struct InvitationRow {
    /// Name keys of `From` and `To`.
    from: String,
    to: String,
    at: Option<i64>,
    note: bool,
    outgoing: bool,
    inviter_url: Option<String>,
    invitee_url: Option<String>,
    id: String,
    seq: u64,
    source: Arc<str>,
}

#[derive(Debug, Clone)]
struct Connection {
    /// Name key of "First Last".
    name: String,
    url: Option<String>,
}

/// What one file produced.
#[derive(Debug, Default)]
struct Parsed {
    activities: Vec<Activity>,
    messages: Vec<MessageRow>,
    messages_2018: Vec<Message2018Row>,
    invitations: Vec<InvitationRow>,
    connections: Vec<Connection>,
    diag: Diagnostics,
}

impl Parsed {
    fn merge(&mut self, other: Parsed) {
        self.activities.extend(other.activities);
        self.messages.extend(other.messages);
        self.messages_2018.extend(other.messages_2018);
        self.invitations.extend(other.invitations);
        self.connections.extend(other.connections);
        self.diag.merge(other.diag);
    }
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
                            let parsed = guarded(archive, entry, || {
                                parse_file(archive, entry, layout, *idx as u64)
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

/// Which LinkedIn file a set of records stands for (the API's snapshot domains mirror them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// `Shares.csv` (`MEMBER_SHARE_INFO`).
    Shares,
    /// `Comments.csv` (`ALL_COMMENTS`).
    Comments,
    /// `Reactions.csv` (`ALL_LIKES`).
    Reactions,
    /// `messages.csv` (`INBOX`).
    Messages,
    /// `Invitations.csv` (`INVITATIONS`).
    Invitations,
    /// `Connections.csv` (`CONNECTIONS`).
    Connections,
}

impl RowKind {
    fn file_kind(self) -> FileKind {
        match self {
            RowKind::Shares => FileKind::Shares,
            RowKind::Comments => FileKind::Comments,
            RowKind::Reactions => FileKind::Reactions,
            RowKind::Messages => FileKind::Messages { guide: false },
            RowKind::Invitations => FileKind::Invitations,
            RowKind::Connections => FileKind::Connections,
        }
    }
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
        let mut handler = Handler::new(kind.file_kind(), Arc::from(source), self.files << 40);
        self.files += 1;
        let mut parsed = Parsed::default();
        for r in records {
            handler.row(r, &mut parsed);
        }
        self.batches.push(std::mem::take(&mut parsed.activities));
        self.parsed.merge(parsed);
    }

    /// Finds the owner and pushes every activity into the sink, as `read` does for an export.
    pub fn finish(self, options: &ImportOptions, sink: &mut dyn Sink) {
        assemble(self.parsed, self.batches, options, sink);
    }
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

/// One LinkedIn record, however it is stored: a CSV row of an export file, or a JSON row of
/// the Member Data Portability API (`fetch::linkedin`). Both go through the same row handlers,
/// so an API account and an export follow the very same rules.
pub trait Record {
    /// The 1-based line (CSV) or row number (API) for problem reports.
    fn line(&self) -> u64;
    /// The cell of `column` (a column key, see [`column_key`]): empty when absent.
    fn cell(&self, column: &str) -> Cow<'_, str>;
}

/// A CSV row: its line, its cells, and where each column is.
struct CsvRow<'a> {
    line: u64,
    record: &'a csv::ByteRecord,
    columns: &'a HashMap<&'static str, usize>,
}

impl Record for CsvRow<'_> {
    fn line(&self) -> u64 {
        self.line
    }

    fn cell(&self, column: &str) -> Cow<'_, str> {
        let bytes = self.columns.get(column).and_then(|&i| self.record.get(i));
        Cow::Borrowed(bytes.map_or("", |b| std::str::from_utf8(b).unwrap_or("")))
    }
}

/// The column keys the row handlers read.
const COLUMNS: &[&str] = &[
    "date",
    "sharelink",
    "sharecommentary",
    "link",
    "message",
    "type",
    "optiontext",
    "conversationid",
    "from",
    "senderprofileurl",
    "to",
    "recipientprofileurls",
    "ismessagedraft",
    "isconversationdraft",
    "content",
    "subject",
    "direction",
    "sentat",
    "inviterprofileurl",
    "inviteeprofileurl",
    "firstname",
    "lastname",
    "url",
];

/// Where each read column sits in a file's header.
fn layout_columns(layout: &Layout) -> HashMap<&'static str, usize> {
    COLUMNS
        .iter()
        .filter_map(|n| Some((*n, layout.col(n)?)))
        .collect()
}

fn parse_file(
    archive: &Archive,
    entry: &Entry,
    layout: &Layout,
    file_idx: u64,
) -> Result<Parsed, SourceError> {
    let source: Arc<str> = Arc::from(entry.name.as_str());
    let mut parsed = Parsed::default();
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
            parse_records(reader, skipped, layout, &source, seq_base, &mut parsed)
        } else {
            let mut reader = BufReader::with_capacity(256 * 1024, r);
            let skipped = skip_lines(&mut reader, layout.header_line + 1)?;
            parse_records(reader, skipped, layout, &source, seq_base, &mut parsed)
        }
    })?;
    Ok(parsed)
}

/// Skips `n` lines; returns how many lines were consumed and whether they ended in CRLF.
fn skip_lines(r: &mut impl BufRead, n: usize) -> io::Result<(u64, bool)> {
    let mut buf = Vec::new();
    for i in 0..n {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok((i as u64, false));
        }
    }
    Ok((n as u64, buf.ends_with(b"\r\n")))
}

fn parse_records(
    reader: impl BufRead,
    (lines_before, crlf): (u64, bool),
    layout: &Layout,
    source: &Arc<str>,
    seq_base: u64,
    out: &mut Parsed,
) -> io::Result<()> {
    let mut handler = Handler::new(layout.kind, source.clone(), seq_base);
    let columns = layout_columns(layout);
    if layout.kind == FileKind::Comments && comments_in_standard_order(layout) {
        return parse_comments(reader, lines_before, &mut handler, out);
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(layout.delimiter)
        // Comments.csv and messages.csv escape quotes with a backslash (not RFC 4180); the csv
        // crate accepts both that and doubled quotes when an escape byte is set.
        .escape(match layout.kind {
            FileKind::Comments | FileKind::Messages { .. } => Some(b'\\'),
            _ => None,
        })
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let mut first_seen = false;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // With CRLF endings the csv crate counts a record's `\n` only when it starts
                // reading the next record, so every record after the first is one line short.
                let mut line = lines_before + record.position().map(|p| p.line()).unwrap_or(0);
                if crlf && first_seen {
                    line += 1;
                }
                first_seen = true;
                if record
                    .iter()
                    .all(|c| c.iter().all(|b| b.is_ascii_whitespace()))
                {
                    continue; // blank rows appear inside real exports
                }
                // Invalid UTF-8 in a cell: repair lossily rather than lose the row.
                if std::str::from_utf8(record.as_slice()).is_err() {
                    let fixed: Vec<String> = record
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    let fixed_record = csv::ByteRecord::from(fixed);
                    handler.row(
                        &CsvRow {
                            line,
                            record: &fixed_record,
                            columns: &columns,
                        },
                        out,
                    );
                } else {
                    handler.row(
                        &CsvRow {
                            line,
                            record: &record,
                            columns: &columns,
                        },
                        out,
                    );
                }
            }
            Err(e) => {
                let line = e.position().map(|p| lines_before + p.line());
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(io::Error::other(e.to_string()));
                }
                out.diag
                    .skip(source, line, "unreadable CSV record", e.to_string());
            }
        }
    }
    Ok(())
}

fn comments_in_standard_order(layout: &Layout) -> bool {
    layout.columns.len() >= 3
        && layout.columns[0] == "date"
        && layout.columns[1] == "link"
        && layout.columns[2] == "message"
}

/// True when a line begins a Comments.csv record: a date (or nothing) then a link.
fn starts_comment_record(line: &[u8]) -> Option<(String, String, usize)> {
    let text = std::str::from_utf8(line).ok()?;
    let (date, rest) = split_field(text)?;
    let date_ok = date.trim().is_empty() || parse_datetime(&date).is_some();
    if !date_ok {
        return None;
    }
    let rest_trim = rest.trim_start_matches('"');
    if !(rest_trim.starts_with("http") || rest_trim.starts_with("urn:")) {
        return None;
    }
    let (link, _) = split_field(rest).unwrap_or((rest.trim_end().to_string(), ""));
    let consumed = text.len() - rest.len() + rest.find(',').map(|i| i + 1).unwrap_or(rest.len());
    Some((date, link, consumed))
}

/// Splits off the first field (quoted or not); returns it and the text after its delimiter.
fn split_field(text: &str) -> Option<(String, &str)> {
    if let Some(rest) = text.strip_prefix('"') {
        let end = rest.find('"')?;
        let after = &rest[end + 1..];
        let after = after.strip_prefix(',')?;
        Some((rest[..end].to_string(), after))
    } else {
        let comma = text.find(',')?;
        Some((text[..comma].to_string(), &text[comma + 1..]))
    }
}

/// Comments.csv: quotes are backslash-escaped and some records are broken by unquoted commas
/// and newlines, so a CSV parser misaligns. A record starts at a line that begins with a date
/// (or an empty date) and a link; everything up to the next such line is its message.
fn parse_comments(
    mut reader: impl BufRead,
    lines_before: u64,
    handler: &mut Handler,
    out: &mut Parsed,
) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut line_no = lines_before;
    let mut current: Option<(u64, String, String, String)> = None;
    let mut orphan_lines = 0u64;
    let mut first_orphan: Option<u64> = None;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let line = trim_eol(&buf);
        if let Some((date, link, consumed)) = starts_comment_record(line) {
            if let Some((l, d, k, m)) = current.take() {
                handler.comment(l, &d, &k, &m, out);
            }
            let message = String::from_utf8_lossy(&line[consumed.min(line.len())..]).into_owned();
            current = Some((line_no, date, link, message));
        } else if let Some((_, _, _, m)) = current.as_mut() {
            // The text only feeds the id hash: cap it so a hostile file cannot grow it forever.
            if m.len() < MAX_COMMENT_BYTES {
                m.push('\n');
                m.push_str(&String::from_utf8_lossy(line));
            }
        } else if !line.iter().all(|b| b.is_ascii_whitespace()) {
            orphan_lines += 1;
            first_orphan.get_or_insert(line_no);
        }
    }
    if let Some((l, d, k, m)) = current.take() {
        handler.comment(l, &d, &k, &m, out);
    }
    if orphan_lines > 0 {
        for _ in 0..orphan_lines {
            out.diag.skip(
                &handler.source,
                first_orphan,
                "line before the first comment record",
                "text that does not start with a date and a link".into(),
            );
        }
    }
    Ok(())
}

/// Longest comment text kept for the id hash.
const MAX_COMMENT_BYTES: usize = 1 << 20;

fn trim_eol(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
        end -= 1;
    }
    &b[..end]
}

/// Column indices of one file and the per-row logic.
struct Handler {
    kind: FileKind,
    source: Arc<str>,
    seq_base: u64,
    seq: u64,
    /// Occurrences of each synthesized id, so identical rows stay distinct acts.
    seen: HashMap<u64, u32>,
    /// One shared copy of each profile URL and conversation id (they repeat on every row).
    interned: HashSet<Arc<str>>,
}

impl Handler {
    fn new(kind: FileKind, source: Arc<str>, seq_base: u64) -> Self {
        Handler {
            kind,
            source,
            seq_base,
            seq: 0,
            seen: HashMap::default(),
            interned: HashSet::default(),
        }
    }

    /// A normalized, shared profile URL (no allocation when the export's URL is already clean).
    fn intern_url(&mut self, raw: &str) -> Option<Arc<str>> {
        let t = raw.trim();
        if is_normalized_linkedin_url(t) {
            return Some(self.intern(t));
        }
        normalize_linkedin_url(raw).map(|u| self.intern(&u))
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.interned.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.interned.insert(a.clone());
        a
    }

    fn next_seq(&mut self) -> u64 {
        let s = self.seq_base | self.seq;
        self.seq += 1;
        s
    }

    /// A stable id from content; repeated identical rows get `#2`, `#3`, ….
    fn synth_id(&mut self, prefix: &str, parts: &[&str]) -> String {
        let h = fnv64(parts);
        let n = self.seen.entry(h).or_insert(0);
        *n += 1;
        // Hex by hand: `format!` is measurable at a million rows.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(prefix.len() + 20);
        id.push_str(prefix);
        id.push(':');
        for shift in (0..16).rev() {
            id.push(HEX[((h >> (shift * 4)) & 0xf) as usize] as char);
        }
        if *n > 1 {
            id.push('#');
            id.push_str(&n.to_string());
        }
        id
    }

    /// Parses a date cell: blank → None silently where blanks are expected, else with a warning.
    fn date(&self, raw: &str, line: u64, blank_ok: bool, diag: &mut Diagnostics) -> Option<i64> {
        if raw.trim().is_empty() {
            if !blank_ok {
                diag.warn(
                    &self.source,
                    Some(line),
                    "missing date (counted as undated)",
                    String::new(),
                );
            }
            return None;
        }
        let at = parse_datetime(raw);
        if at.is_none() {
            diag.warn(
                &self.source,
                Some(line),
                "unparseable date (counted as undated)",
                format!("{:?}", raw.trim()),
            );
        }
        at
    }

    fn comment(&mut self, line: u64, date: &str, link: &str, message: &str, out: &mut Parsed) {
        let at = self.date(date, line, true, &mut out.diag);
        let id = self.synth_id("comment", &[date.trim(), link.trim(), message]);
        let mut a = Activity::new(
            Platform::LinkedIn,
            id,
            at,
            Direction::Out,
            Kind::Comment,
            self.source.clone(),
        );
        a.hints.seq = self.next_seq();
        out.activities.push(a);
    }

    fn row(&mut self, row: &dyn Record, out: &mut Parsed) {
        match self.kind {
            FileKind::Shares => {
                let date = &*row.cell("date");
                let link = row.cell("sharelink").trim().to_string();
                let at = self.date(date, row.line(), false, &mut out.diag);
                let id = if link.is_empty() || is_placeholder(&link) {
                    self.synth_id("share", &[date, &*row.cell("sharecommentary")])
                } else {
                    link
                };
                self.simple(out, id, at, Kind::Post);
            }
            FileKind::Comments => {
                let date = row.cell("date").to_string();
                let link = row.cell("link").to_string();
                let message = row.cell("message").to_string();
                self.comment(row.line(), &date, &link, &message, out);
            }
            FileKind::Reactions | FileKind::InstantReposts | FileKind::Votes => {
                let date = &*row.cell("date");
                let link = &*row.cell("link");
                let (prefix, kind) = match self.kind {
                    FileKind::Reactions => ("reaction", Kind::Reaction),
                    FileKind::Votes => ("vote", Kind::Vote),
                    _ => ("repost", Kind::Repost),
                };
                let at = self.date(date, row.line(), false, &mut out.diag);
                let extra = row.cell("type").to_string() + &*row.cell("optiontext");
                let id = self.synth_id(prefix, &[date.trim(), link.trim(), &extra]);
                self.simple(out, id, at, kind);
            }
            FileKind::Messages { guide } => self.message(row, guide, out),
            FileKind::Messages2018 => self.message_2018(row, out),
            FileKind::Invitations => self.invitation(row, out),
            FileKind::Connections => {
                let first = &*row.cell("firstname");
                let last = &*row.cell("lastname");
                let name = name_key(&format!("{first} {last}"));
                let url = normalize_linkedin_url(&row.cell("url"));
                if !name.is_empty() || url.is_some() {
                    out.connections.push(Connection { name, url });
                }
            }
            FileKind::Article | FileKind::Profile => {}
        }
    }

    fn simple(&mut self, out: &mut Parsed, id: String, at: Option<i64>, kind: Kind) {
        let mut a = Activity::new(
            Platform::LinkedIn,
            id,
            at,
            Direction::Out,
            kind,
            self.source.clone(),
        );
        a.hints.seq = self.next_seq();
        out.activities.push(a);
    }

    fn message(&mut self, row: &dyn Record, guide: bool, out: &mut Parsed) {
        let conversation_cell = row.cell("conversationid");
        let conversation = conversation_cell.trim();
        let date = &*row.cell("date");
        if conversation.is_empty() || is_placeholder(conversation) || date.trim().is_empty() {
            let what = if conversation.trim().is_empty() {
                "message without a conversation id"
            } else {
                "message without a date"
            };
            out.diag
                .skip(&self.source, Some(row.line()), what, String::new());
            return;
        }
        let at = self.date(date, row.line(), false, &mut out.diag);
        let truthy = |v: &str| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "yes" | "true" | "1" | "y"
            )
        };
        let draft = truthy(&row.cell("ismessagedraft")) || truthy(&row.cell("isconversationdraft"));
        let from_text = row.cell("from");
        let from_cell = from_text.trim();
        let from = name_key(from_cell);
        let to = row.cell("to").trim().to_string();
        let recipient_urls: Vec<Arc<str>> = row
            .cell("recipientprofileurls")
            .split([',', ';'])
            .filter_map(|u| self.intern_url(u))
            .collect();
        let sender_url = self.intern_url(&row.cell("senderprofileurl"));
        let to = if recipient_urls.is_empty() {
            to
        } else {
            String::new()
        };
        let id = self.synth_id(
            "message",
            &[
                conversation,
                date.trim(),
                from_cell,
                sender_url.as_deref().unwrap_or(""),
                &*row.cell("content"),
                &*row.cell("subject"),
            ],
        );
        let seq = self.next_seq();
        let conversation = self.intern(conversation);
        out.messages.push(MessageRow {
            conversation,
            from,
            sender_url,
            to,
            recipient_urls,
            at,
            draft,
            guide,
            id,
            seq,
            source: self.source.clone(),
        });
    }

    fn message_2018(&mut self, row: &dyn Record, out: &mut Parsed) {
        let direction = row.cell("direction").trim().to_ascii_uppercase();
        let outgoing = match direction.as_str() {
            "OUTGOING" | "SENT" | "OUT" | "OUTBOX" => true,
            "INCOMING" | "RECEIVED" | "IN" | "INBOX" => false,
            _ => {
                out.diag.skip(
                    &self.source,
                    Some(row.line()),
                    "message with an unknown Direction",
                    format!("{direction:?}"),
                );
                return;
            }
        };
        let date = &*row.cell("date");
        if date.trim().is_empty() {
            out.diag.skip(
                &self.source,
                Some(row.line()),
                "message without a date",
                String::new(),
            );
            return;
        }
        let at = self.date(date, row.line(), false, &mut out.diag);
        let from_text = row.cell("from");
        let from_cell = from_text.trim();
        let from = name_key(from_cell);
        let to = row.cell("to").trim().to_string();
        let id = self.synth_id(
            "message",
            &[
                from_cell,
                &to,
                date.trim(),
                &*row.cell("content"),
                &*row.cell("subject"),
            ],
        );
        let seq = self.next_seq();
        out.messages_2018.push(Message2018Row {
            from,
            to,
            at,
            outgoing,
            id,
            seq,
            source: self.source.clone(),
        });
    }

    fn invitation(&mut self, row: &dyn Record, out: &mut Parsed) {
        let direction = row.cell("direction").trim().to_ascii_uppercase();
        let outgoing = match direction.as_str() {
            "OUTGOING" | "SENT" => true,
            "INCOMING" | "RECEIVED" => false,
            _ => {
                out.diag.skip(
                    &self.source,
                    Some(row.line()),
                    "invitation with an unknown Direction",
                    format!("{direction:?}"),
                );
                return;
            }
        };
        let date = &*row.cell("sentat");
        let at = self.date(date, row.line(), false, &mut out.diag);
        let from = name_key(&row.cell("from"));
        let to = name_key(&row.cell("to"));
        let note = !row.cell("message").trim().is_empty();
        let inviter_url = normalize_linkedin_url(&row.cell("inviterprofileurl"));
        let invitee_url = normalize_linkedin_url(&row.cell("inviteeprofileurl"));
        let id = self.synth_id("invitation", &[&from, &to, date.trim(), &direction]);
        let seq = self.next_seq();
        out.invitations.push(InvitationRow {
            from,
            to,
            at,
            note,
            outgoing,
            inviter_url,
            invitee_url,
            id,
            seq,
            source: self.source.clone(),
        });
    }
}

/// Articles carry no date; the canonical URL (`<h1><a href=".../pulse/...">`) is the id.
fn article_activity(html: &[u8], entry: &Entry, source: Arc<str>) -> Activity {
    let text = String::from_utf8_lossy(html);
    let id = text
        .find("linkedin.com/pulse/")
        .and_then(|i| {
            let start = text[..i].rfind(['"', '\'']).map(|s| s + 1).unwrap_or(i);
            let end = text[i..].find(['"', '\'', '<', ' ']).map(|e| i + e)?;
            Some(text[start..end].to_string())
        })
        .unwrap_or_else(|| format!("article:{}", entry.name));
    Activity::new(
        Platform::LinkedIn,
        id,
        None,
        Direction::Out,
        Kind::Article,
        source,
    )
}

/// People known by name (all names are name keys, `text::name_key`): the URLs each name uses
/// as a sender in the messages, the URLs Connections.csv gives it, and every name seen at all.
struct NameBook {
    /// name → distinct URLs it was seen with as a sender.
    senders: HashMap<String, HashSet<Arc<str>>>,
    /// "first last" → distinct URLs in Connections.csv.
    connections: HashMap<String, HashSet<Arc<str>>>,
    /// Names known to stand for one person: senders (with or without URL) and connections.
    known: HashSet<String>,
}

/// The single element of a set, `None` when it holds none or several.
fn only<T: Clone>(set: Option<&HashSet<T>>) -> Option<T> {
    match set {
        Some(s) if s.len() == 1 => s.iter().next().cloned(),
        _ => None,
    }
}

impl NameBook {
    fn new(
        messages: &[MessageRow],
        messages_2018: &[Message2018Row],
        connections: &[Connection],
    ) -> Self {
        // Distinct (name, URL) pairs first: a name repeats on every message it sent.
        let mut pairs: HashSet<(&str, &Arc<str>)> = HashSet::default();
        let mut known: HashSet<String> = HashSet::default();
        for m in messages {
            if m.from.is_empty() {
                continue;
            }
            if let Some(u) = &m.sender_url {
                pairs.insert((&m.from, u));
            }
            if !known.contains(&m.from) {
                known.insert(m.from.clone());
            }
        }
        for m in messages_2018 {
            if !m.from.is_empty() && !known.contains(&m.from) {
                known.insert(m.from.clone());
            }
        }
        let mut senders: HashMap<String, HashSet<Arc<str>>> = HashMap::default();
        for (name, u) in pairs {
            senders
                .entry(name.to_string())
                .or_default()
                .insert(u.clone());
        }
        let mut conns: HashMap<String, HashSet<Arc<str>>> = HashMap::default();
        for c in connections {
            if c.name.is_empty() {
                continue;
            }
            known.insert(c.name.clone());
            if let Some(u) = &c.url {
                conns
                    .entry(c.name.clone())
                    .or_default()
                    .insert(Arc::from(u.as_str()));
            }
        }
        NameBook {
            senders,
            connections: conns,
            known,
        }
    }

    /// The one URL a name stands for (docs/counting.md "Older messages.csv"): the URL it
    /// uses as a sender in the same conversation (`conversation`), else the one it uses as a
    /// sender in the file (`senders_too`), else the one Connections.csv gives it. A step that
    /// finds several URLs gives way to the next.
    fn resolve(
        &self,
        key: &str,
        conversation: Option<&HashMap<&str, HashSet<Arc<str>>>>,
        senders_too: bool,
    ) -> Option<Arc<str>> {
        if key.is_empty() {
            return None;
        }
        conversation
            .and_then(|c| only(c.get(key)))
            .or_else(|| senders_too.then(|| only(self.senders.get(key))).flatten())
            .or_else(|| only(self.connections.get(key)))
    }

    /// Splits a `TO` cell on commas into name keys, keeping pieces that together form a known
    /// name as one person ("Kim Doe, MBA"); the longest known run from the left wins.
    fn split_names(&self, to: &str) -> Vec<String> {
        let pieces: Vec<&str> = to
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < pieces.len() {
            let mut taken = 1;
            for j in (i + 1..pieces.len()).rev() {
                if self.known.contains(&name_key(&pieces[i..=j].join(", "))) {
                    taken = j - i + 1;
                    break;
                }
            }
            out.push(name_key(&pieces[i..i + taken].join(", ")));
            i += taken;
        }
        out
    }
}

/// Sponsored, InMail and anonymous system senders (docs/counting.md, *Modes* rule 1), by name key.
fn is_system_sender(key: &str, url: Option<&str>) -> bool {
    key == "sponsored conversation"
        || key == "linkedin talent solutions"
        || (key == "linkedin member" && url.is_none())
}

/// Finds the owner's profile URL (docs/counting.md, *Owner*) and says how.
fn find_owner(
    me: Option<&str>,
    invitations: &[InvitationRow],
    messages: &[MessageRow],
    connections: &[Connection],
) -> (Option<String>, String) {
    if let Some(me) = me {
        let id = normalize_linkedin_url(me).unwrap_or_else(|| me.trim().to_lowercase());
        return (Some(id), "given with --me".into());
    }
    fn most_frequent<'a>(it: impl Iterator<Item = &'a String>) -> Option<(String, usize)> {
        let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
        for u in it {
            *counts.entry(u).or_default() += 1;
        }
        // Highest count; ties go to the alphabetically first URL (BTreeMap order).
        let mut best: Option<(&String, usize)> = None;
        for (u, c) in counts {
            if best.is_none_or(|(_, bc)| c > bc) {
                best = Some((u, c));
            }
        }
        best.map(|(u, c)| (u.clone(), c))
    }
    if let Some((u, c)) = most_frequent(
        invitations
            .iter()
            .filter(|i| i.outgoing)
            .filter_map(|i| i.inviter_url.as_ref()),
    ) {
        return (
            Some(u),
            format!("inviter of {c} outgoing invitation(s) in Invitations.csv"),
        );
    }
    if let Some((u, c)) = most_frequent(
        invitations
            .iter()
            .filter(|i| !i.outgoing)
            .filter_map(|i| i.invitee_url.as_ref()),
    ) {
        return (
            Some(u),
            format!("invitee of {c} incoming invitation(s) in Invitations.csv"),
        );
    }
    let connection_urls: HashSet<&str> = connections
        .iter()
        .filter_map(|c| c.url.as_deref())
        .collect();
    let mut conversations: HashMap<&str, HashSet<&str>> = HashMap::default();
    for m in messages {
        for u in m.sender_url.iter().chain(m.recipient_urls.iter()) {
            if !connection_urls.contains(&**u) {
                conversations.entry(u).or_default().insert(&m.conversation);
            }
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (&u, convs) in &conversations {
        let n = convs.len();
        if best.is_none_or(|(bu, bn)| n > bn || (n == bn && u < bu)) {
            best = Some((u, n));
        }
    }
    match best {
        Some((u, n)) => (
            Some(u.to_string()),
            format!("profile URL present in the most message conversations ({n})"),
        ),
        None => (
            None,
            "not found: no invitations and no profile URLs in messages".into(),
        ),
    }
}

/// Turns rows that needed the owner into activities and pushes everything into the sink.
fn assemble(
    all: Parsed,
    batches: Vec<Vec<Activity>>,
    options: &ImportOptions,
    sink: &mut dyn Sink,
) {
    let Parsed {
        activities: _,
        messages,
        messages_2018,
        invitations,
        connections,
        diag,
    } = all;
    sink.diag().merge(diag);
    let (owner, how) = find_owner(
        options.me_for(Platform::LinkedIn),
        &invitations,
        &messages,
        &connections,
    );
    sink.owner(Owner {
        platform: Platform::LinkedIn,
        id: owner.clone(),
        how,
    });
    let total = batches.iter().map(Vec::len).sum::<usize>()
        + messages.len()
        + messages_2018.len()
        + invitations.len();
    sink.reserve(total);
    for batch in batches {
        sink.extend(batch);
    }
    let book = NameBook::new(&messages, &messages_2018, &connections);
    push_invitations(&invitations, &book, sink);
    match owner.as_deref() {
        Some(owner) => push_messages(messages, owner, &book, sink),
        None => skip_messages(&messages, sink),
    }
    push_messages_2018(&messages_2018, &book, sink);
}

/// Without the owner no message has a direction: each is skipped and counted, and the
/// warning says how to name the owner (docs/counting.md "Owner not found").
fn skip_messages(messages: &[MessageRow], sink: &mut dyn Sink) {
    for m in messages {
        sink.diag().skip(
            &m.source,
            None,
            "owner not identified: message skipped (its direction is unknown)",
            "pass --me https://www.linkedin.com/in/<you>".into(),
        );
    }
}

fn push_invitations(invitations: &[InvitationRow], book: &NameBook, sink: &mut dyn Sink) {
    for inv in invitations {
        let (direction, other_url, other_name) = if inv.outgoing {
            (Direction::Out, &inv.invitee_url, &inv.to)
        } else {
            (Direction::In, &inv.inviter_url, &inv.from)
        };
        let mut a = Activity::new(
            Platform::LinkedIn,
            inv.id.clone(),
            inv.at,
            direction,
            Kind::Invitation,
            inv.source.clone(),
        );
        match other_url {
            Some(u) => a.counterparts.push(Arc::from(u.as_str())),
            None => {
                if let Some(u) = book.resolve(other_name, None, false) {
                    a.counterparts.push(u);
                    a.confidence = Confidence::Low;
                }
            }
        }
        a.hints.with_note = inv.note;
        a.hints.seq = inv.seq;
        sink.push(a);
    }
}

/// A person in a conversation: a profile URL, a name where no URL exists, or a deleted account.
fn person(url: Option<Arc<str>>, key: &str) -> Arc<str> {
    match url {
        Some(u) => u,
        None if !key.is_empty() => Arc::from(format!("name:{key}")),
        // A received row without sender name and URL: a deleted account, one more person.
        None => Arc::from("deleted:"),
    }
}

/// True for a person id that can be a counterpart: a profile URL other than the owner's.
fn is_counterpart(p: &str, owner: &str) -> bool {
    p != owner && !p.starts_with("name:") && !p.starts_with("deleted:")
}

fn push_messages(messages: Vec<MessageRow>, owner: &str, book: &NameBook, sink: &mut dyn Sink) {
    // Per conversation: the URLs each name uses as a sender (for TO names), and its senders.
    type Senders<'a> = HashMap<&'a str, HashSet<Arc<str>>>;
    let mut by_conversation: HashMap<&str, Senders<'_>> = HashMap::default();
    let mut sender_urls: HashMap<Arc<str>, HashSet<Arc<str>>> = HashMap::default();
    for m in &messages {
        if let Some(u) = &m.sender_url {
            if !sender_urls
                .get(&m.conversation)
                .is_some_and(|s| s.contains(u))
            {
                sender_urls
                    .entry(m.conversation.clone())
                    .or_default()
                    .insert(u.clone());
            }
            if !m.from.is_empty() {
                by_conversation
                    .entry(&m.conversation)
                    .or_default()
                    .entry(&m.from)
                    .or_default()
                    .insert(u.clone());
            }
        }
    }
    // Each row's sender and recipients as people; `low` when a name had to be resolved.
    struct Resolved {
        sender: Arc<str>,
        recipients: Vec<Arc<str>>,
        /// Other senders' URLs of the conversation (older files: they are the counterparts).
        by_names: bool,
        low: bool,
    }
    let resolved: Vec<Resolved> = messages
        .iter()
        .map(|m| {
            let conv = by_conversation.get(&*m.conversation);
            let mut low = false;
            let sender = match &m.sender_url {
                Some(u) => u.clone(),
                None => {
                    let r = book.resolve(&m.from, conv, true);
                    low = r.is_some();
                    person(r, &m.from)
                }
            };
            let by_names = m.recipient_urls.is_empty();
            let recipients = if by_names {
                low = low || !m.to.is_empty();
                book.split_names(&m.to)
                    .into_iter()
                    .map(|n| person(book.resolve(&n, conv, true), &n))
                    .filter(|p| !p.starts_with("deleted:"))
                    .collect()
            } else {
                m.recipient_urls.clone()
            };
            Resolved {
                sender,
                recipients,
                by_names,
                low,
            }
        })
        .collect();
    // Participants = distinct people over the whole conversation, owner included, at least 2
    // (a conversation always has someone on the other side, if only a deleted account).
    let participants: HashMap<Arc<str>, u32> = {
        let mut people: HashMap<&str, HashSet<&str>> = HashMap::default();
        for (m, r) in messages.iter().zip(&resolved) {
            let set = people.entry(&m.conversation).or_default();
            set.insert(&r.sender);
            set.extend(r.recipients.iter().map(|p| &**p));
            set.insert(owner);
        }
        people
            .into_iter()
            .map(|(c, set)| (Arc::from(c), (set.len() as u32).max(2)))
            .collect()
    };
    for (m, r) in messages.into_iter().zip(resolved) {
        let out = m.sender_url.as_deref() == Some(owner);
        let direction = if out { Direction::Out } else { Direction::In };
        let excluded = if m.guide {
            Some(Exclusion::GuideFile)
        } else if m.draft {
            Some(Exclusion::Draft)
        } else if is_system_sender(&m.from, m.sender_url.as_deref()) {
            Some(Exclusion::SystemSender)
        } else {
            None
        };
        let mut a = Activity::new(
            Platform::LinkedIn,
            m.id,
            m.at,
            direction,
            Kind::Message,
            m.source,
        );
        a.participants = participants.get(&m.conversation).copied();
        let mut counterparts: Vec<Arc<str>> = if out {
            let mut v: Vec<Arc<str>> = r.recipients;
            if r.by_names {
                // Older files name recipients only: the other senders of the conversation
                // are the people written to, too.
                v.extend(
                    sender_urls
                        .get(&m.conversation)
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
            }
            v
        } else {
            vec![r.sender]
        };
        counterparts.retain(|p| is_counterpart(p, owner));
        counterparts.sort_unstable();
        counterparts.dedup();
        a.counterparts = counterparts;
        a.conversation = Some(m.conversation);
        if r.low {
            a.confidence = Confidence::Low;
        }
        a.hints.seq = m.seq;
        a.hints.excluded = excluded;
        sink.push(a);
    }
}

fn push_messages_2018(messages: &[Message2018Row], book: &NameBook, sink: &mut dyn Sink) {
    for m in messages {
        let to = book.split_names(&m.to);
        // The conversation is the set of names in From + To.
        let mut names: Vec<&str> = std::iter::once(m.from.as_str())
            .chain(to.iter().map(String::as_str))
            .filter(|n| !n.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        let direction = if m.outgoing {
            Direction::Out
        } else {
            Direction::In
        };
        let mut a = Activity::new(
            Platform::LinkedIn,
            m.id.clone(),
            m.at,
            direction,
            Kind::Message,
            m.source.clone(),
        );
        a.conversation = Some(Arc::from(names.join(" | ").as_str()));
        a.participants = Some((names.len() as u32).max(2));
        a.confidence = Confidence::Low;
        let others: Vec<&str> = if m.outgoing {
            to.iter().map(String::as_str).collect()
        } else {
            vec![&m.from]
        };
        for n in others {
            // Counterparts only through Connections.csv (the file has no URLs at all).
            if let Some(u) = book.resolve(n, None, false)
                && !a.counterparts.contains(&u)
            {
                a.counterparts.push(u);
            }
        }
        a.hints.seq = m.seq;
        if is_system_sender(&m.from, None) && !m.outgoing {
            a.hints.excluded = Some(Exclusion::SystemSender);
        }
        sink.push(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(s: &str) -> Vec<String> {
        header_cells(s, ',')
    }

    #[test]
    fn files_recognised_by_header_not_name() {
        assert_eq!(
            kind_of(
                &cols("Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl"),
                "x.csv"
            ),
            Some(FileKind::Shares)
        );
        assert_eq!(
            kind_of(&cols("Date,Link,Message"), "Comments_1.csv"),
            Some(FileKind::Comments)
        );
        assert_eq!(
            kind_of(&cols("Date,Type,Link"), "a.csv"),
            Some(FileKind::Reactions)
        );
        assert_eq!(
            kind_of(&cols("Date,Link"), "a.csv"),
            Some(FileKind::InstantReposts)
        );
        assert_eq!(
            kind_of(&cols("Date,OptionText,Link"), "a.csv"),
            Some(FileKind::Votes)
        );
        assert_eq!(
            kind_of(
                &cols("\"CONVERSATION ID\",\"CONVERSATION TITLE\",\"FROM\",\"DATE\""),
                "m.csv"
            ),
            Some(FileKind::Messages { guide: false })
        );
        assert_eq!(
            kind_of(
                &cols("CONVERSATION ID,CONVERSATION TITLE,FROM,DATE"),
                "guide_messages.csv"
            ),
            Some(FileKind::Messages { guide: true })
        );
        assert_eq!(
            kind_of(
                &cols("From,To,Date,Subject,Content,Direction,Folder"),
                "Inbox.csv"
            ),
            Some(FileKind::Messages2018)
        );
        assert_eq!(
            kind_of(
                &cols("From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl"),
                "i.csv"
            ),
            Some(FileKind::Invitations)
        );
        assert_eq!(
            kind_of(
                &cols("First Name,Last Name,URL,Email Address,Company,Position,Connected On"),
                "c.csv"
            ),
            Some(FileKind::Connections)
        );
        assert_eq!(
            kind_of(
                &cols("First Name,Last Name,Maiden Name,Address"),
                "Profile.csv"
            ),
            Some(FileKind::Profile)
        );
        // 2018: `Share Link`, `Share Commentary`, … (spaces), tab-separated.
        assert_eq!(
            kind_of(
                &header_cells(
                    "Date\tShare Title\tShare Description\tShare Link\tShare Commentary\tShared URL\tMedia URL\tType\tVisibility",
                    '\t'
                ),
                "Shares.csv"
            ),
            Some(FileKind::Shares)
        );
        assert_eq!(
            kind_of(&cols("date,share_link,share_commentary"), "x.csv"),
            Some(FileKind::Shares)
        );
        assert_eq!(
            kind_of(&cols("Time,Search Query"), "SearchQueries.csv"),
            None
        );
    }

    #[test]
    fn comment_record_starts() {
        assert!(
            starts_comment_record(
                b"2024-03-06 08:00:01,https://www.linkedin.com/feed/update/urn:li:activity:1,\"x\""
            )
            .is_some()
        );
        assert!(
            starts_comment_record(b",https://www.linkedin.com/feed/update/urn:li:activity:1,blank")
                .is_some()
        );
        assert!(starts_comment_record(b"\"2024-03-06 08:00:01\",\"https://x\",\"m\"").is_some());
        assert!(starts_comment_record(b"and then, https://x was cited").is_none());
        assert!(starts_comment_record(b"continued text").is_none());
    }

    fn import(files: &[(&str, &str)], me: Option<&str>) -> crate::sources::Collected {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, body) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(path, body).expect("write");
        }
        let archive = Archive::open(dir.path(), u64::MAX).expect("open");
        let mut sink = crate::sources::Collected::default();
        let options = ImportOptions {
            me: me.map(String::from).into_iter().collect(),
            threads: 2,
        };
        LinkedInExport
            .read(&archive, &options, &mut sink)
            .expect("read");
        sink
    }

    const MSG_HEADER: &str = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS,IS MESSAGE DRAFT,IS CONVERSATION DRAFT\n";

    #[test]
    fn notes_preamble_is_skipped_and_names_resolve() {
        let c = import(
            &[
                (
                    "Connections.csv",
                    "Notes:\n\"Some text, with a comma\nand a newline\"\n\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\nKim,Doe,https://www.linkedin.com/in/kim-doe,,,,01 Jan 2024\n",
                ),
                (
                    "messages.csv",
                    &format!(
                        "{MSG_HEADER}c1,,Me,https://www.linkedin.com/in/me,Kim Doe,,2024-01-01 10:00:00 UTC,,hi,INBOX,,No,No\n"
                    ),
                ),
            ],
            Some("https://www.linkedin.com/in/me"),
        );
        assert_eq!(c.activities.len(), 1);
        let a = &c.activities[0];
        assert_eq!(a.direction, Direction::Out);
        assert_eq!(
            a.counterparts,
            vec![Arc::<str>::from("https://www.linkedin.com/in/kim-doe")]
        );
        assert_eq!(a.confidence, Confidence::Low);
        assert_eq!(a.participants, Some(2));
    }

    #[test]
    fn owner_from_incoming_invitations_then_messages() {
        let c = import(
            &[(
                "Invitations.csv",
                "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\nA,Me,\"1/2/24, 3:04 PM\",,INCOMING,https://www.linkedin.com/in/a,https://www.linkedin.com/in/ME/\n",
            )],
            None,
        );
        assert_eq!(
            c.owners[0].id.as_deref(),
            Some("https://www.linkedin.com/in/me")
        );
        assert!(c.owners[0].how.contains("incoming"));
        // Messages only: the URL in the most conversations, connections left out.
        let msgs = format!(
            "{MSG_HEADER}c1,,A,https://www.linkedin.com/in/a,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c2,,Me,https://www.linkedin.com/in/me,B,https://www.linkedin.com/in/b,2024-01-02 10:00:00 UTC,,x,INBOX,,No,No\n\
c3,,B,https://www.linkedin.com/in/b,Me,https://www.linkedin.com/in/me,2024-01-03 10:00:00 UTC,,x,INBOX,,No,No\n\
c4,,B,https://www.linkedin.com/in/b,Me,https://www.linkedin.com/in/me,2024-01-04 10:00:00 UTC,,x,INBOX,,No,No\n"
        );
        let connections = "First Name,Last Name,URL\nB,B,https://www.linkedin.com/in/b\n";
        let c = import(
            &[("messages.csv", &msgs), ("Connections.csv", connections)],
            None,
        );
        assert_eq!(
            c.owners[0].id.as_deref(),
            Some("https://www.linkedin.com/in/me")
        );
        let out = c
            .activities
            .iter()
            .filter(|a| a.direction == Direction::Out)
            .count();
        assert_eq!(out, 1);
    }

    #[test]
    fn drafts_system_senders_deleted_accounts_and_placeholders() {
        let msgs = format!(
            "{MSG_HEADER}c1,,Me,https://www.linkedin.com/in/me,A,https://www.linkedin.com/in/a,2024-01-01 10:00:00 UTC,,draft,INBOX,,No,TRUE\n\
c2,,LinkedIn Member,,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c3,,LinkedIn Member,https://www.linkedin.com/in/real,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c4,,LinkedIn Talent Solutions,<NA>,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c5,,,,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n\
c6,,Someone,n/a,Me,https://www.linkedin.com/in/me,2024-01-01 10:00:00 UTC,,x,INBOX,,No,No\n"
        );
        let c = import(
            &[("messages.csv", &msgs)],
            Some("https://www.linkedin.com/in/me"),
        );
        let ex: Vec<Option<Exclusion>> = c.activities.iter().map(|a| a.hints.excluded).collect();
        assert_eq!(
            ex,
            vec![
                Some(Exclusion::Draft),
                Some(Exclusion::SystemSender),
                None,
                Some(Exclusion::SystemSender),
                None,
                None
            ]
        );
        // Deleted account: received, counterpart unknown. Placeholder URL: no URL.
        assert_eq!(c.activities[4].direction, Direction::In);
        assert!(c.activities[4].counterparts.is_empty());
        assert!(c.activities[5].counterparts.is_empty());
    }

    #[test]
    fn broken_comment_records_and_identical_rows() {
        let c = import(
            &[(
                "Comments.csv",
                "Date,Link,Message\n\
2024-01-01 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:1,Broken, by a comma\n\
2024-01-01 09:00:00 is when I wrote, and a newline\n\
2024-01-02 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:2,\"quoted \\\"x\\\"\"\n\
2024-01-02 10:00:00,https://www.linkedin.com/feed/update/urn:li:activity:2,\"quoted \\\"x\\\"\"\n",
            )],
            None,
        );
        assert_eq!(c.activities.len(), 3, "{:?}", c.activities);
        assert!(
            c.activities
                .iter()
                .all(|a| a.kind == Kind::Comment && a.at.is_some())
        );
        assert_ne!(c.activities[1].id, c.activities[2].id);
        assert!(c.diagnostics.is_empty());
    }

    #[test]
    fn unparseable_and_blank_dates_are_undated_with_warnings() {
        let c = import(
            &[(
                "Shares.csv",
                "Date,ShareLink,ShareCommentary\nsoon,https://x/1,a\n,https://x/2,b\n2024-01-01 10:00:00,https://x/3,c\n",
            )],
            None,
        );
        let undated = c.activities.iter().filter(|a| a.at.is_none()).count();
        assert_eq!(undated, 2);
        let problems = c.diagnostics.problems();
        assert_eq!(problems.len(), 2);
        assert_eq!(
            problems.iter().map(|p| p.first_line).collect::<Vec<_>>(),
            vec![Some(3), Some(2)]
        );
    }

    #[test]
    fn panicked_parser_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Shares.csv"), "Date,ShareLink\n").expect("write");
        let archive = Archive::open(dir.path(), u64::MAX).expect("open");
        let entry = &archive.entries()[0];
        let r: Result<(), SourceError> = guarded(&archive, entry, || panic!("index out of bounds"));
        let message = r.expect_err("a panic is an error").to_string();
        assert!(message.contains("Shares.csv"), "{message}");
        assert!(message.contains("index out of bounds"), "{message}");
    }

    #[test]
    fn deleted_account_is_the_other_participant_of_a_private_conversation() {
        let msgs = format!(
            "{MSG_HEADER}d1,,Me,https://www.linkedin.com/in/me,,,2024-03-01 08:45:00 UTC,,answer,INBOX,,No,No\n\
d1,,,,Me,https://www.linkedin.com/in/me,2024-03-01 08:00:00 UTC,,question,INBOX,,No,No\n"
        );
        let mut c = import(
            &[("messages.csv", &msgs)],
            Some("https://www.linkedin.com/in/me"),
        );
        crate::classify::classify(&mut c.activities, 8);
        let answer = &c.activities[0];
        assert_eq!(answer.direction, Direction::Out);
        assert_eq!(answer.participants, Some(2));
        assert_eq!(answer.mode, Some(crate::model::Mode::Conversation));
        assert!(answer.is_private_message());
        assert!(answer.counterparts.is_empty());
        let question = &c.activities[1];
        assert_eq!(question.direction, Direction::In);
        assert!(question.counterparts.is_empty());
    }

    #[test]
    fn owner_not_found_skips_messages_with_a_warning_naming_me() {
        // Old messages without any profile URL and no invitations: no owner, no direction.
        let msgs = "CONVERSATION ID,FROM,TO,DATE,CONTENT\n\
c1,Ada,Robin,2024-01-01 10:00:00 UTC,hi\n\
c1,Robin,Ada,2024-01-01 10:05:00 UTC,hello\n";
        let c = import(&[("messages.csv", msgs)], None);
        assert!(c.activities.is_empty(), "{:?}", c.activities);
        assert_eq!(c.owners[0].id, None);
        let p = c
            .diagnostics
            .problems()
            .into_iter()
            .find(|p| p.reason.starts_with("owner not identified"))
            .expect("warning");
        assert_eq!(p.count, 2);
        assert_eq!(p.outcome, crate::diag::Outcome::Skipped);
        assert!(p.example.contains("--me"), "{}", p.example);
        // With --me the messages count; a sender known only by name is never the owner.
        let c = import(
            &[("messages.csv", msgs)],
            Some("linkedin:https://www.linkedin.com/in/robin"),
        );
        assert_eq!(c.activities.len(), 2);
        assert!(c.activities.iter().all(|a| a.direction == Direction::In));
    }

    #[test]
    fn older_messages_counterparts_are_other_senders_and_resolved_to_names() {
        // No RECIPIENT PROFILE URLS: the owner's message goes to the other senders of the
        // conversation and to the TO names resolved (first within the conversation).
        let msgs = "CONVERSATION ID,FROM,SENDER PROFILE URL,TO,DATE,CONTENT\n\
c1,Me,https://www.linkedin.com/in/me,\"Ada Lovelace, MBA, Bob Roe\",2024-01-01 10:05:00 UTC,hello\n\
c1,\"Ada Lovelace,MBA\",https://www.linkedin.com/in/ada,\"Me, Bob Roe\",2024-01-01 10:00:00 UTC,hi\n\
c1,Cy,https://www.linkedin.com/in/cy,Me,2024-01-01 09:00:00 UTC,first\n";
        let c = import(
            &[("messages.csv", msgs)],
            Some("https://www.linkedin.com/in/me"),
        );
        let mine = &c.activities[0];
        assert_eq!(mine.direction, Direction::Out);
        let cps: Vec<&str> = mine.counterparts.iter().map(|c| &**c).collect();
        assert_eq!(
            cps,
            vec![
                "https://www.linkedin.com/in/ada",
                "https://www.linkedin.com/in/cy"
            ]
        );
        // me, ada, cy and Bob Roe (a name without a URL: a participant, not a counterpart).
        assert_eq!(mine.participants, Some(4));
        assert_eq!(mine.confidence, Confidence::Low);
    }

    #[test]
    fn to_names_keep_known_names_with_commas() {
        let kim: Arc<str> = Arc::from("https://www.linkedin.com/in/kim");
        let book = NameBook {
            senders: [(
                "kim doe, mba".to_string(),
                [kim.clone()].into_iter().collect(),
            )]
            .into_iter()
            .collect(),
            connections: HashMap::default(),
            known: ["kim doe, mba".to_string()].into_iter().collect(),
        };
        assert_eq!(
            book.split_names("Kim Doe, MBA, Lee Roe"),
            vec!["kim doe, mba", "lee roe"]
        );
        // The spacing around the comma never splits a name into two people.
        assert_eq!(book.split_names("Kim Doe,MBA"), vec!["kim doe, mba"]);
        assert_eq!(book.resolve("kim doe, mba", None, true), Some(kim));
        assert_eq!(book.resolve("lee roe", None, true), None);
    }
}
