//! LinkedIn "Get a copy of your data" export (zip or folder) → Activities. Owns every LinkedIn
//! format quirk (formats.md §1) and owner identification (contract §4); must not classify modes
//! (it only sets hints), touch Polars, the network or stdout.
//!
//! Files are recognised by their header line, not their name (names vary between generations:
//! `Shares_123.csv`, `messages.csv`/`Messages.csv`, a top folder or not). Files are parsed in
//! parallel; messages and invitations are kept as rows until the owner is known.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::io::{self, BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::archive::{Archive, Entry};
use super::text::{
    clean_name, decode, fnv64, is_normalized_linkedin_url, is_placeholder, is_utf16,
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

fn header_cells(line: &str, delimiter: char) -> Vec<String> {
    line.split(delimiter)
        .map(|c| {
            c.trim()
                .trim_start_matches('\u{FEFF}')
                .trim_matches('"')
                .trim()
                .to_lowercase()
        })
        .collect()
}

fn is_guide_name(basename: &str) -> bool {
    let n = basename.to_lowercase();
    n.contains("guide") || n.contains("coach") || n.contains("learning") || n.contains("role_play")
}

/// Decides the kind of a CSV from its header line. Column order never matters.
fn kind_of(columns: &[String], basename: &str) -> Option<FileKind> {
    let has = |n: &str| columns.iter().any(|c| c == n);
    if has("conversation id") && has("from") && has("date") {
        return Some(FileKind::Messages {
            guide: is_guide_name(basename),
        });
    }
    if has("sent at") && has("direction") {
        return Some(FileKind::Invitations);
    }
    if has("from") && has("to") && has("date") && has("direction") {
        return Some(FileKind::Messages2018);
    }
    if has("sharelink") && has("date") {
        return Some(FileKind::Shares);
    }
    if has("first name")
        && has("last name")
        && (has("url") || has("connected on"))
        && !has("maiden name")
    {
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
                            out.push((*idx, parse_file(archive, entry, layout, *idx as u64)?));
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Ok(Vec::new())))
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

/// A record handed to the row handlers: 1-based line and cells.
struct Row<'a> {
    line: u64,
    record: &'a csv::ByteRecord,
}

impl Row<'_> {
    fn get(&self, idx: Option<usize>) -> &str {
        idx.and_then(|i| self.record.get(i))
            .map(|b| std::str::from_utf8(b).unwrap_or(""))
            .unwrap_or("")
    }
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
    let mut handler = Handler::new(layout, source.clone(), seq_base);
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
                        &Row {
                            line,
                            record: &fixed_record,
                        },
                        out,
                    );
                } else {
                    handler.row(
                        &Row {
                            line,
                            record: &record,
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
    c: HashMap<&'static str, Option<usize>>,
    /// One shared copy of each profile URL and conversation id (they repeat on every row).
    interned: HashSet<Arc<str>>,
}

impl Handler {
    fn new(layout: &Layout, source: Arc<str>, seq_base: u64) -> Self {
        let names: &[&'static str] = &[
            "date",
            "sharelink",
            "link",
            "message",
            "type",
            "optiontext",
            "conversation id",
            "from",
            "sender profile url",
            "to",
            "recipient profile urls",
            "is message draft",
            "is conversation draft",
            "content",
            "subject",
            "direction",
            "sent at",
            "inviterprofileurl",
            "inviteeprofileurl",
            "first name",
            "last name",
            "url",
        ];
        let c = names.iter().map(|n| (*n, layout.col(n))).collect();
        Handler {
            kind: layout.kind,
            source,
            seq_base,
            seq: 0,
            seen: HashMap::default(),
            c,
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

    fn col(&self, name: &str) -> Option<usize> {
        self.c.get(name).copied().flatten()
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

    fn row(&mut self, row: &Row<'_>, out: &mut Parsed) {
        match self.kind {
            FileKind::Shares => {
                let date = row.get(self.col("date"));
                let link = row.get(self.col("sharelink")).trim().to_string();
                let at = self.date(date, row.line, false, &mut out.diag);
                let id = if link.is_empty() || is_placeholder(&link) {
                    self.synth_id("share", &[date, row.get(self.col("sharecommentary"))])
                } else {
                    link
                };
                self.simple(out, id, at, Kind::Post);
            }
            FileKind::Comments => {
                let date = row.get(self.col("date")).to_string();
                let link = row.get(self.col("link")).to_string();
                let message = row.get(self.col("message")).to_string();
                self.comment(row.line, &date, &link, &message, out);
            }
            FileKind::Reactions | FileKind::InstantReposts | FileKind::Votes => {
                let date = row.get(self.col("date"));
                let link = row.get(self.col("link"));
                let (prefix, kind) = match self.kind {
                    FileKind::Reactions => ("reaction", Kind::Reaction),
                    FileKind::Votes => ("vote", Kind::Vote),
                    _ => ("repost", Kind::Repost),
                };
                let at = self.date(date, row.line, false, &mut out.diag);
                let extra = row.get(self.col("type")).to_string() + row.get(self.col("optiontext"));
                let id = self.synth_id(prefix, &[date.trim(), link.trim(), &extra]);
                self.simple(out, id, at, kind);
            }
            FileKind::Messages { guide } => self.message(row, guide, out),
            FileKind::Messages2018 => self.message_2018(row, out),
            FileKind::Invitations => self.invitation(row, out),
            FileKind::Connections => {
                let first = clean_name(row.get(self.col("first name")));
                let last = clean_name(row.get(self.col("last name")));
                let name = clean_name(&format!("{first} {last}"));
                let url = normalize_linkedin_url(row.get(self.col("url")));
                if !name.is_empty() || url.is_some() {
                    out.connections.push(Connection { name, url });
                }
            }
            FileKind::Article => {}
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

    fn message(&mut self, row: &Row<'_>, guide: bool, out: &mut Parsed) {
        let conversation = row.get(self.col("conversation id")).trim();
        let date = row.get(self.col("date"));
        if conversation.is_empty() || is_placeholder(conversation) || date.trim().is_empty() {
            let what = if conversation.trim().is_empty() {
                "message without a conversation id"
            } else {
                "message without a date"
            };
            out.diag
                .skip(&self.source, Some(row.line), what, String::new());
            return;
        }
        let at = self.date(date, row.line, false, &mut out.diag);
        let truthy = |v: &str| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "yes" | "true" | "1" | "y"
            )
        };
        let draft = truthy(row.get(self.col("is message draft")))
            || truthy(row.get(self.col("is conversation draft")));
        let from = clean_name(row.get(self.col("from")));
        let to = row.get(self.col("to")).trim().to_string();
        let recipient_urls: Vec<Arc<str>> = row
            .get(self.col("recipient profile urls"))
            .split([',', ';'])
            .filter_map(|u| self.intern_url(u))
            .collect();
        let sender_url = self.intern_url(row.get(self.col("sender profile url")));
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
                &from,
                sender_url.as_deref().unwrap_or(""),
                row.get(self.col("content")),
                row.get(self.col("subject")),
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

    fn message_2018(&mut self, row: &Row<'_>, out: &mut Parsed) {
        let direction = row.get(self.col("direction")).trim().to_ascii_uppercase();
        let outgoing = match direction.as_str() {
            "OUTGOING" | "SENT" | "OUT" | "OUTBOX" => true,
            "INCOMING" | "RECEIVED" | "IN" | "INBOX" => false,
            _ => {
                out.diag.skip(
                    &self.source,
                    Some(row.line),
                    "message with an unknown Direction",
                    format!("{direction:?}"),
                );
                return;
            }
        };
        let date = row.get(self.col("date"));
        if date.trim().is_empty() {
            out.diag.skip(
                &self.source,
                Some(row.line),
                "message without a date",
                String::new(),
            );
            return;
        }
        let at = self.date(date, row.line, false, &mut out.diag);
        let from = clean_name(row.get(self.col("from")));
        let to = row.get(self.col("to")).trim().to_string();
        let id = self.synth_id(
            "message",
            &[
                &from,
                &to,
                date.trim(),
                row.get(self.col("content")),
                row.get(self.col("subject")),
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

    fn invitation(&mut self, row: &Row<'_>, out: &mut Parsed) {
        let direction = row.get(self.col("direction")).trim().to_ascii_uppercase();
        let outgoing = match direction.as_str() {
            "OUTGOING" | "SENT" => true,
            "INCOMING" | "RECEIVED" => false,
            _ => {
                out.diag.skip(
                    &self.source,
                    Some(row.line),
                    "invitation with an unknown Direction",
                    format!("{direction:?}"),
                );
                return;
            }
        };
        let date = row.get(self.col("sent at"));
        let at = self.date(date, row.line, false, &mut out.diag);
        let from = clean_name(row.get(self.col("from")));
        let to = clean_name(row.get(self.col("to")));
        let note = !row.get(self.col("message")).trim().is_empty();
        let inviter_url = normalize_linkedin_url(row.get(self.col("inviterprofileurl")));
        let invitee_url = normalize_linkedin_url(row.get(self.col("inviteeprofileurl")));
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

/// People known by name: sender names in messages, connection names.
struct NameBook {
    /// name → distinct URLs it was seen with as a sender.
    senders: HashMap<String, HashSet<Arc<str>>>,
    /// "First Last" → distinct URLs in Connections.csv.
    connections: HashMap<String, HashSet<Arc<str>>>,
}

impl NameBook {
    fn new(messages: &[MessageRow], connections: &[Connection]) -> Self {
        // Distinct (name, URL) pairs first: a name repeats on every message it sent.
        let mut pairs: HashSet<(&str, &Arc<str>)> = HashSet::default();
        for m in messages {
            if let Some(u) = &m.sender_url
                && !m.from.is_empty()
            {
                pairs.insert((&m.from, u));
            }
        }
        let mut senders: HashMap<String, HashSet<Arc<str>>> = HashMap::default();
        for (name, u) in pairs {
            senders
                .entry(name.to_lowercase())
                .or_default()
                .insert(u.clone());
        }
        let mut conns: HashMap<String, HashSet<Arc<str>>> = HashMap::default();
        for c in connections {
            if let Some(u) = &c.url
                && !c.name.is_empty()
            {
                conns
                    .entry(c.name.to_lowercase())
                    .or_default()
                    .insert(Arc::from(u.as_str()));
            }
        }
        NameBook {
            senders,
            connections: conns,
        }
    }

    /// The one URL a name stands for: as a sender in the file, else in Connections.csv.
    fn resolve(&self, name: &str, senders_too: bool) -> Option<Arc<str>> {
        let key = clean_name(name).to_lowercase();
        if key.is_empty() {
            return None;
        }
        if senders_too && let Some(urls) = self.senders.get(&key) {
            return if urls.len() == 1 {
                urls.iter().next().cloned()
            } else {
                None
            };
        }
        match self.connections.get(&key) {
            Some(urls) if urls.len() == 1 => urls.iter().next().cloned(),
            _ => None,
        }
    }

    fn known(&self, name: &str, senders_too: bool) -> bool {
        let key = name.to_lowercase();
        (senders_too && self.senders.contains_key(&key)) || self.connections.contains_key(&key)
    }

    /// Splits a `TO` cell on commas, keeping pieces that together form a known name as one
    /// person ("Kim Doe, MBA").
    fn split_names(&self, to: &str, senders_too: bool) -> Vec<String> {
        let pieces: Vec<String> = to
            .split(',')
            .map(clean_name)
            .filter(|p| !p.is_empty())
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < pieces.len() {
            let mut taken = 1;
            for j in (i + 1..pieces.len()).rev() {
                let joined = pieces[i..=j].join(", ");
                if self.known(&joined, senders_too) {
                    taken = j - i + 1;
                    break;
                }
            }
            out.push(pieces[i..i + taken].join(", "));
            i += taken;
        }
        out
    }
}

fn is_system_sender(name: &str, url: Option<&str>) -> bool {
    let n = name.trim().to_lowercase();
    n == "sponsored conversation"
        || n == "linkedin talent solutions"
        || (n == "linkedin member" && url.is_none())
}

/// Finds the owner's profile URL (contract §4) and says how.
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
    let (owner, how) = find_owner(options.me.as_deref(), &invitations, &messages, &connections);
    if owner.is_none() && !messages.is_empty() {
        sink.diag().warn(
            "messages",
            None,
            "owner not identified: every message counted as received",
            "pass --me https://www.linkedin.com/in/<you>".into(),
        );
    }
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
    let book = NameBook::new(&messages, &connections);
    push_invitations(&invitations, &book, sink);
    push_messages(messages, owner.as_deref(), &book, sink);
    push_messages_2018(&messages_2018, &book, sink);
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
                if let Some(u) = book.resolve(other_name, false) {
                    a.counterparts.push(u.clone());
                    a.confidence = Confidence::Low;
                }
            }
        }
        a.hints.with_note = inv.note;
        a.hints.seq = inv.seq;
        sink.push(a);
    }
}

/// A person in a conversation: a profile URL, or a display name where no URL exists.
fn person_key(url: Option<Arc<str>>, name: &str) -> Option<Arc<str>> {
    match url {
        Some(u) => Some(u),
        None if !name.trim().is_empty() => {
            Some(Arc::from(format!("name:{}", name.trim().to_lowercase())))
        }
        None => None,
    }
}

fn push_messages(
    messages: Vec<MessageRow>,
    owner: Option<&str>,
    book: &NameBook,
    sink: &mut dyn Sink,
) {
    // Each row's sender and recipients as people: URLs, resolved names, or bare names.
    struct Resolved {
        sender: Option<Arc<str>>,
        recipients: Vec<Arc<str>>,
        low: bool,
    }
    let resolved: Vec<Resolved> = messages
        .iter()
        .map(|m| {
            let mut low = false;
            let sender = match &m.sender_url {
                Some(u) => Some(u.clone()),
                None => {
                    let r = book.resolve(&m.from, true);
                    low = r.is_some();
                    person_key(r, &m.from)
                }
            };
            let recipients = if !m.recipient_urls.is_empty() {
                m.recipient_urls.clone()
            } else {
                low = low || !m.to.is_empty();
                book.split_names(&m.to, true)
                    .into_iter()
                    .filter_map(|n| person_key(book.resolve(&n, true), &n))
                    .collect()
            };
            Resolved {
                sender,
                recipients,
                low,
            }
        })
        .collect();
    // Participants = distinct people over the whole conversation, owner included.
    let participants: HashMap<Arc<str>, u32> = {
        let mut people: HashMap<&str, HashSet<&str>> = HashMap::default();
        for (m, r) in messages.iter().zip(&resolved) {
            let set = people.entry(&m.conversation).or_default();
            set.extend(r.sender.as_deref());
            set.extend(r.recipients.iter().map(|p| &**p));
            set.extend(owner);
        }
        people
            .into_iter()
            .map(|(c, set)| (Arc::from(c), set.len() as u32))
            .collect()
    };
    let is_counterpart = |p: &&Arc<str>| Some(&***p) != owner && !p.starts_with("name:");
    for (m, r) in messages.into_iter().zip(resolved) {
        let out = owner.is_some() && m.sender_url.as_deref() == owner;
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
        a.conversation = Some(m.conversation);
        let candidates: Vec<&Arc<str>> = if out {
            r.recipients.iter().filter(is_counterpart).collect()
        } else {
            r.sender.iter().filter(is_counterpart).collect()
        };
        for c in candidates {
            if !a.counterparts.contains(c) {
                a.counterparts.push(c.clone());
            }
        }
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
        let from = clean_name(&m.from);
        let to = book.split_names(&m.to, false);
        // The conversation is the set of names in From + To.
        let mut names: Vec<String> = std::iter::once(from.clone())
            .chain(to.iter().cloned())
            .filter(|n| !n.is_empty())
            .map(|n| n.to_lowercase())
            .collect();
        names.sort();
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
        a.participants = Some(names.len() as u32);
        a.confidence = Confidence::Low;
        let others: Vec<&String> = if m.outgoing {
            to.iter().collect()
        } else {
            vec![&from]
        };
        for n in others {
            if let Some(u) = book.resolve(n, false) {
                a.counterparts.push(u.clone());
            }
        }
        a.hints.seq = m.seq;
        if is_system_sender(&from, None) && !m.outgoing {
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
            None
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
            me: me.map(String::from),
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
    fn to_names_keep_known_names_with_commas() {
        let book = NameBook {
            senders: [(
                "kim doe, mba".to_string(),
                [Arc::<str>::from("https://www.linkedin.com/in/kim")]
                    .into_iter()
                    .collect(),
            )]
            .into_iter()
            .collect(),
            connections: HashMap::default(),
        };
        assert_eq!(
            book.split_names("Kim Doe, MBA, Lee Roe", true),
            vec!["Kim Doe, MBA", "Lee Roe"]
        );
        assert_eq!(
            book.resolve("Kim Doe, MBA", true).as_deref(),
            Some("https://www.linkedin.com/in/kim")
        );
        assert_eq!(book.resolve("Lee Roe", true), None);
    }
}
