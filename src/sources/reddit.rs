//! Reddit data-request export (a flat zip of CSVs, or its folder) → Activities. Owns the
//! Reddit file shapes and rules (docs/counting.md, *Reddit*): files recognised by their header
//! (names repeat other platforms' — `messages.csv` — and split as `_N`; a UTF-8 BOM is
//! allowed); posts broadcast, comments public conversation with an unknown counterpart,
//! `messages.csv` and `chat_history.csv` private messages, votes passive and undated, the owner
//! from `--me`, `statistics.csv` or the messages. Must not classify modes, touch Polars, the
//! network or stdout.

use std::collections::{BTreeMap, BTreeSet};

use super::archive::{Archive, Entry};
use super::text::{decode, fnv64, parse_datetime};
use super::{ImportOptions, Importer, Owner, Sink};
use crate::diag::Diagnostics;
use crate::error::SourceError;
use crate::model::{Activity, Direction, Interner, Kind, Platform, Source};

/// The Reddit export importer.
pub struct RedditExport;

/// Bytes of a CSV read to find its header.
const HEAD_BYTES: usize = 4096;

/// What a Reddit CSV holds, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RedditFile {
    Posts,
    Comments,
    Messages,
    Chat,
    PostVotes,
    CommentVotes,
    PollVotes,
    Statistics,
}

/// A header cell as compared: BOM, quotes and case removed.
fn cell_key(c: &str) -> String {
    c.trim()
        .trim_start_matches('\u{feff}')
        .trim_matches('"')
        .trim()
        .to_ascii_lowercase()
}

fn reddit_file(columns: &[String], basename: &str) -> Option<RedditFile> {
    let has = |n: &str| columns.iter().any(|c| c == n);
    let name = basename.to_ascii_lowercase();
    if name.ends_with("_headers.csv") {
        return None; // message metadata without bodies: the messages are in messages.csv
    }
    if has("message_id") && has("username") && has("channel_url") {
        return Some(RedditFile::Chat);
    }
    if has("thread_id") && has("from") && has("to") {
        return Some(RedditFile::Messages);
    }
    if has("post_id") && has("user_selection") {
        return Some(RedditFile::PollVotes);
    }
    if has("id") && has("permalink") && has("direction") {
        return Some(if name.starts_with("comment") {
            RedditFile::CommentVotes
        } else {
            RedditFile::PostVotes
        });
    }
    if has("id") && has("permalink") && has("subreddit") {
        if has("parent") || (has("link") && has("body")) {
            return Some(RedditFile::Comments);
        }
        if has("title") {
            return Some(RedditFile::Posts);
        }
    }
    if has("statistic") && has("value") {
        return Some(RedditFile::Statistics);
    }
    None
}

/// The files of a Reddit export and their columns.
fn reddit_files(archive: &Archive) -> Result<Vec<(&Entry, RedditFile)>, SourceError> {
    let mut out = Vec::new();
    for entry in archive.entries() {
        if !entry.name.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        let head = archive.head(entry, HEAD_BYTES)?;
        let text = decode(&head);
        let first = text.lines().next().unwrap_or("");
        let columns: Vec<String> = first.split(',').map(cell_key).collect();
        if let Some(kind) = reddit_file(&columns, entry.basename()) {
            out.push((entry, kind));
        }
    }
    Ok(out)
}

impl Importer for RedditExport {
    fn platform(&self) -> Platform {
        Platform::Reddit
    }

    fn name(&self) -> &'static str {
        "Reddit export"
    }

    fn sniff(&self, archive: &Archive) -> Result<bool, SourceError> {
        Ok(reddit_files(archive)?
            .iter()
            .any(|(_, k)| *k != RedditFile::Statistics))
    }

    fn read(
        &self,
        archive: &Archive,
        options: &ImportOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        let files = reddit_files(archive)?;
        let other = archive
            .entries()
            .iter()
            .filter(|e| !files.iter().any(|(f, _)| f.name == e.name))
            .count();
        if other > 0 {
            sink.diag().note(format!(
                "{}: {other} file(s) hold no participation data and were not read",
                archive.path().display()
            ));
        }
        // The owner from `--me` or statistics.csv; only without either are the messages and
        // chats read whole to find it (docs/counting.md, *Reddit*). Otherwise only the chats
        // are held (their counterparts are everyone seen in the channel over the file) and
        // the messages are streamed like the other files.
        let mut tables: Vec<(RedditFile, Table)> = Vec::new();
        for (entry, kind) in &files {
            if *kind == RedditFile::Statistics {
                tables.push((*kind, read_table(archive, entry, sink.diag())?));
            }
        }
        let mut owner = stated_owner(options, &tables);
        for (entry, kind) in &files {
            let whole = match kind {
                RedditFile::Chat => true,
                RedditFile::Messages => owner.is_none(),
                _ => false,
            };
            if whole {
                tables.push((*kind, read_table(archive, entry, sink.diag())?));
            }
        }
        if owner.is_none() {
            owner = owner_by_messages(&tables);
        }
        let needs_owner = tables.iter().any(|(k, t)| {
            matches!(k, RedditFile::Messages | RedditFile::Chat) && !t.rows.is_empty()
        });
        if needs_owner || owner.is_some() {
            sink.owner(Owner {
                platform: Platform::Reddit,
                id: owner.as_ref().map(|(o, _)| o.clone()),
                how: owner
                    .as_ref()
                    .map(|(_, how)| how.clone())
                    .unwrap_or_else(|| "not found".into()),
            });
        }
        let owner = owner.map(|(o, _)| o);
        // Room for every row (at most one per ~64 bytes), so the vector is never copied while
        // it grows.
        let bytes: u64 = files.iter().map(|(e, _)| e.size).sum();
        let mut acts = Vec::with_capacity((bytes / 64).min(1 << 26) as usize);
        let mut shared = Interner::default();
        for (entry, kind) in &files {
            let held = tables.iter().find(|(_, t)| *t.source == entry.name);
            match (kind, held, owner.as_deref()) {
                (RedditFile::Messages, Some((_, t)), owner) => {
                    messages(t, owner, &mut acts, &mut shared, sink.diag());
                }
                (RedditFile::Messages, None, Some(owner)) => {
                    let mut seq = 0u64;
                    for_each_row(archive, entry, sink.diag(), |t, line, row, diag| {
                        acts.push(message_row(t, line, row, seq, owner, &mut shared, diag));
                        seq += 1;
                    })?;
                }
                (RedditFile::Chat, Some((_, t)), owner) => {
                    chat(t, owner, &mut acts, &mut shared, sink.diag());
                }
                _ => {}
            }
        }
        drop(tables);
        let mut polls = BTreeSet::new();
        for (entry, kind) in &files {
            let mut seq = 0u64;
            let mut row_act =
                |t: &Table, line: u64, row: &csv::StringRecord, diag: &mut Diagnostics| {
                    let a = match kind {
                        RedditFile::Posts | RedditFile::Comments => post(*kind, t, line, row, diag),
                        RedditFile::PostVotes | RedditFile::CommentVotes => vote(*kind, t, row),
                        RedditFile::PollVotes => poll_vote(t, row, &mut polls),
                        _ => None,
                    };
                    if let Some(mut a) = a {
                        a.hints.seq = seq;
                        seq += 1;
                        acts.push(a);
                    }
                };
            if matches!(
                kind,
                RedditFile::Posts
                    | RedditFile::Comments
                    | RedditFile::PostVotes
                    | RedditFile::CommentVotes
                    | RedditFile::PollVotes
            ) {
                for_each_row(archive, entry, sink.diag(), &mut row_act)?;
            }
        }
        sink.extend(acts);
        Ok(())
    }
}

/// One CSV: its column keys and rows (with their lines), the source name.
struct Table {
    source: Source,
    columns: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn get<'r>(&self, row: &'r csv::StringRecord, column: &str) -> &'r str {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| row.get(i))
            .map(str::trim)
            .unwrap_or("")
    }
}

/// Streams the rows of one CSV (a UTF-8 BOM skipped) to `each(table, line, row)`; `table` has
/// the columns and no rows. Unreadable records are reported and skipped.
fn for_each_row(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
    mut each: impl FnMut(&Table, u64, &csv::StringRecord, &mut Diagnostics),
) -> Result<(), SourceError> {
    let source: Source = Source::from(entry.name.as_str());
    archive.read(entry, |r| {
        let mut buffered = std::io::BufReader::with_capacity(256 * 1024, r);
        // A UTF-8 BOM before the header.
        if std::io::BufRead::fill_buf(&mut buffered)?.starts_with(&[0xEF, 0xBB, 0xBF]) {
            std::io::BufRead::consume(&mut buffered, 3);
        }
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(buffered);
        let mut table = Table {
            source: source.clone(),
            columns: Vec::new(),
            rows: Vec::new(),
        };
        let mut record = csv::StringRecord::new();
        let mut n = 0u64;
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) if n == 0 => {
                    table.columns = record.iter().map(cell_key).collect();
                    n += 1;
                }
                Ok(true) => {
                    n += 1;
                    if record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let line = record.position().map_or(n, |p| p.line());
                    each(&table, line, &record, diag);
                }
                Err(e) => {
                    if let csv::ErrorKind::Io(_) = e.kind() {
                        return Err(std::io::Error::other(e.to_string()));
                    }
                    diag.skip(
                        &source,
                        e.position().map(|p| p.line()),
                        "unreadable CSV record",
                        e.to_string(),
                    );
                }
            }
        }
        Ok(())
    })
}

/// A whole (small) CSV: statistics, messages and chats, which the owner is found from.
fn read_table(
    archive: &Archive,
    entry: &Entry,
    diag: &mut Diagnostics,
) -> Result<Table, SourceError> {
    let mut table = Table {
        source: Source::from(entry.name.as_str()),
        columns: Vec::new(),
        rows: Vec::new(),
    };
    for_each_row(archive, entry, diag, |t, line, row, _| {
        if table.columns.is_empty() {
            table.columns = t.columns.clone();
        }
        table.rows.push((line, row.clone()));
    })?;
    Ok(table)
}

/// A username as compared: `/u/` or `u/` stripped, lower case; `None` for blank or deleted.
pub(crate) fn user(raw: &str) -> Option<String> {
    let t = raw.trim();
    let t = t
        .strip_prefix("/u/")
        .or_else(|| t.strip_prefix("u/"))
        .unwrap_or(t);
    let t = t.trim().to_lowercase();
    (!t.is_empty() && t != "[deleted]" && t != "[removed]").then_some(t)
}

/// A `to`/`from` value as a person: `u:<name>`, or `r:<sub>` for a subreddit's moderators.
pub(crate) fn person(raw: &str) -> Option<String> {
    let t = raw.trim();
    if let Some(sub) = t.strip_prefix("/r/").or_else(|| t.strip_prefix("r/")) {
        let sub = sub.trim().trim_end_matches('/').to_lowercase();
        return (!sub.is_empty()).then(|| format!("r:{sub}"));
    }
    user(t).map(|u| format!("u:{u}"))
}

/// The owner as given (docs/counting.md, *Reddit*): `--me`; else the `account name` row of
/// `statistics.csv`.
fn stated_owner(
    options: &ImportOptions,
    tables: &[(RedditFile, Table)],
) -> Option<(String, String)> {
    if let Some(me) = options.me_for(Platform::Reddit).and_then(user) {
        return Some((me, "given with --me".into()));
    }
    for (kind, t) in tables {
        if *kind != RedditFile::Statistics {
            continue;
        }
        for (_, row) in &t.rows {
            if t.get(row, "statistic").eq_ignore_ascii_case("account name")
                && let Some(u) = user(t.get(row, "value"))
            {
                return Some((u, format!("account name in {}", t.source)));
            }
        }
    }
    None
}

/// The owner when none is stated: the username in the most `messages.csv` rows (ties:
/// alphabetically first).
fn owner_by_messages(tables: &[(RedditFile, Table)]) -> Option<(String, String)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (kind, t) in tables {
        if *kind != RedditFile::Messages {
            continue;
        }
        for (_, row) in &t.rows {
            let mut seen = BTreeSet::new();
            for col in ["from", "to"] {
                let raw = t.get(row, col);
                if raw.starts_with("/r/") || raw.starts_with("r/") {
                    continue;
                }
                if let Some(u) = user(raw) {
                    seen.insert(u);
                }
            }
            for u in seen {
                *counts.entry(u).or_default() += 1;
            }
        }
    }
    let max = *counts.values().max()?;
    let (u, _) = counts.into_iter().find(|(_, n)| *n == max)?;
    Some((u, format!("the username in the most message rows ({max})")))
}

/// A row's date (`YYYY-MM-DD HH:MM:SS UTC` or ISO 8601); blank or unreadable is undated, with a
/// warning.
fn date(t: &Table, line: u64, raw: &str, diag: &mut Diagnostics) -> Option<i64> {
    if raw.trim().is_empty() {
        diag.warn(
            &t.source,
            Some(line),
            "missing date (counted as undated)",
            String::new(),
        );
        return None;
    }
    let at = parse_datetime(raw);
    if at.is_none() {
        diag.warn(
            &t.source,
            Some(line),
            "unparseable date (counted as undated)",
            format!("{raw:?}"),
        );
    }
    at
}

/// The row's id, or a hash of the row when the column is blank.
fn row_id(t: &Table, row: &csv::StringRecord, column: &str) -> String {
    let id = t.get(row, column);
    if id.is_empty() {
        format!("{:016x}", fnv64(&row.iter().collect::<Vec<_>>()))
    } else {
        id.to_string()
    }
}

fn post(
    kind: RedditFile,
    t: &Table,
    line: u64,
    row: &csv::StringRecord,
    diag: &mut Diagnostics,
) -> Option<Activity> {
    let (prefix, act_kind) = match kind {
        RedditFile::Posts => ("t3", Kind::Post),
        _ => ("t1", Kind::Comment),
    };
    let at = date(t, line, t.get(row, "date"), diag);
    Some(own_item(
        act_kind,
        format!("{prefix}_{}", row_id(t, row, "id")),
        at,
        &t.source,
    ))
}

/// The owner's post (broadcast) or comment (public conversation, counterpart unknown: the
/// export does not say whose content it was under), by its fullname (`t3_…`, `t1_…`). Shared
/// by the export and the API (docs/counting.md, *Reddit*).
pub(crate) fn own_item(kind: Kind, fullname: String, at: Option<i64>, source: &Source) -> Activity {
    Activity::new(
        Platform::Reddit,
        fullname,
        at,
        Direction::Out,
        kind,
        source.clone(),
    )
}

/// One private message, as the export's `messages.csv` row or the API's `t4` thing has it.
pub(crate) struct MessageFacts<'a> {
    /// The id without `t4_`.
    pub id: &'a str,
    /// When.
    pub at: Option<i64>,
    /// Sender: a username (`/u/` optional) or `/r/<sub>`.
    pub from: &'a str,
    /// Recipient, likewise.
    pub to: &'a str,
    /// The conversation: the first message's id (empty: this message starts it).
    pub thread: &'a str,
    /// Position in the source (ties).
    pub seq: u64,
}

/// A private message (docs/counting.md, *Reddit*): out when the owner sent it (a subreddit
/// never is the owner), the other side as the counterpart, 2 participants, the conversation
/// `reddit-thread:<first message id>`.
pub(crate) fn message_activity(
    m: &MessageFacts<'_>,
    owner: &str,
    source: &Source,
    shared: &mut Interner,
) -> Activity {
    let out = user(m.from).as_deref() == Some(owner) && !m.from.trim().starts_with("/r/");
    let conversation = if m.thread.is_empty() { m.id } else { m.thread };
    let mut a = Activity::new(
        Platform::Reddit,
        format!("t4_{}", m.id),
        m.at,
        if out { Direction::Out } else { Direction::In },
        Kind::Message,
        source.clone(),
    );
    let other = if out { person(m.to) } else { person(m.from) };
    a.counterparts = other
        .filter(|p| *p != format!("u:{owner}"))
        .map(|p| Box::new([shared.get(&p)]) as Box<[_]>)
        .unwrap_or_default();
    a.set_participants(Some(2));
    a.conversation = Some(shared.name(&format!("reddit-thread:{conversation}")));
    a.hints.seq = m.seq;
    a
}

/// Without an owner no message has a direction: each row of `t` (a `what`) is skipped and
/// counted, and the warning says how to name the owner (docs/counting.md "Owner not found").
fn skip_without_owner(t: &Table, what: &str, diag: &mut Diagnostics) {
    let why = format!("owner not identified: {what} skipped (its direction is unknown)");
    for (line, _) in &t.rows {
        diag.skip(
            &t.source,
            Some(*line),
            &why,
            "pass --me reddit:<your username>".into(),
        );
    }
}

fn messages(
    t: &Table,
    owner: Option<&str>,
    acts: &mut Vec<Activity>,
    shared: &mut Interner,
    diag: &mut Diagnostics,
) {
    let Some(owner) = owner else {
        return skip_without_owner(t, "message", diag);
    };
    for (i, (line, row)) in t.rows.iter().enumerate() {
        acts.push(message_row(t, *line, row, i as u64, owner, shared, diag));
    }
}

/// The activity of one `messages.csv` row (the `seq`-th), its conversation and counterpart
/// shared with the other messages naming them.
fn message_row(
    t: &Table,
    line: u64,
    row: &csv::StringRecord,
    seq: u64,
    owner: &str,
    shared: &mut Interner,
    diag: &mut Diagnostics,
) -> Activity {
    let at = date(t, line, t.get(row, "date"), diag);
    let id = row_id(t, row, "id");
    let facts = MessageFacts {
        id: &id,
        at,
        from: t.get(row, "from"),
        to: t.get(row, "to"),
        thread: t.get(row, "thread_id"),
        seq,
    };
    message_activity(&facts, owner, &t.source, shared)
}

fn chat(
    t: &Table,
    owner: Option<&str>,
    acts: &mut Vec<Activity>,
    shared: &mut Interner,
    diag: &mut Diagnostics,
) {
    let Some(owner) = owner else {
        return skip_without_owner(t, "chat message", diag);
    };
    // Everyone seen in each channel, over the whole file.
    let mut people: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (_, row) in &t.rows {
        if let Some(u) = user(t.get(row, "username")) {
            people
                .entry(t.get(row, "channel_url"))
                .or_default()
                .insert(u);
        }
    }
    for (i, (line, row)) in t.rows.iter().enumerate() {
        let channel = t.get(row, "channel_url");
        let sender = user(t.get(row, "username"));
        let out = sender.as_deref() == Some(owner);
        let at = date(t, *line, t.get(row, "created_at"), diag);
        let seen = people.get(channel);
        let participants = seen
            .map(|s| s.len() + usize::from(!s.contains(owner)))
            .unwrap_or(1)
            .max(2) as u32;
        let mut a = Activity::new(
            Platform::Reddit,
            format!("chat:{}", row_id(t, row, "message_id")),
            at,
            if out { Direction::Out } else { Direction::In },
            Kind::Message,
            t.source.clone(),
        );
        a.counterparts = if out {
            seen.into_iter()
                .flatten()
                .filter(|u| u.as_str() != owner)
                .map(|u| shared.get(&format!("u:{u}")))
                .collect()
        } else {
            sender
                .map(|u| Box::new([shared.get(&format!("u:{u}"))]) as Box<[_]>)
                .unwrap_or_default()
        };
        a.set_participants(Some(participants));
        a.conversation = Some(shared.name(&format!("reddit-chat:{channel}")));
        a.hints.seq = i as u64;
        acts.push(a);
    }
}

fn vote(kind: RedditFile, t: &Table, row: &csv::StringRecord) -> Option<Activity> {
    // A withdrawn vote is no act.
    if t.get(row, "direction").eq_ignore_ascii_case("none") {
        return None;
    }
    let prefix = if kind == RedditFile::CommentVotes {
        "t1"
    } else {
        "t3"
    };
    Some(Activity::new(
        Platform::Reddit,
        format!("vote:{prefix}_{}", row_id(t, row, "id")),
        None,
        Direction::Out,
        Kind::Vote,
        t.source.clone(),
    ))
}

/// One act per poll, however many options were picked.
fn poll_vote(t: &Table, row: &csv::StringRecord, polls: &mut BTreeSet<String>) -> Option<Activity> {
    let post = row_id(t, row, "post_id");
    if !polls.insert(post.clone()) {
        return None;
    }
    Some(Activity::new(
        Platform::Reddit,
        format!("poll:{post}"),
        None,
        Direction::Out,
        Kind::Vote,
        t.source.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(s: &str) -> Vec<String> {
        s.split(',').map(cell_key).collect()
    }

    #[test]
    fn files_recognised_by_header() {
        assert_eq!(
            reddit_file(
                &cols("\u{feff}id,permalink,date,ip,subreddit,gildings,title,url,body"),
                "posts_2.csv"
            ),
            Some(RedditFile::Posts)
        );
        assert_eq!(
            reddit_file(
                &cols("id,permalink,date,ip,subreddit,gildings,link,parent,body,media"),
                "c.csv"
            ),
            Some(RedditFile::Comments)
        );
        assert_eq!(
            reddit_file(
                &cols("id,permalink,thread_id,date,ip,from,to,subject,body"),
                "messages.csv"
            ),
            Some(RedditFile::Messages)
        );
        assert_eq!(
            reddit_file(
                &cols("id,permalink,thread_id,date,ip,from,to"),
                "messages_headers.csv"
            ),
            None
        );
        assert_eq!(
            reddit_file(
                &cols(
                    "message_id,created_at,updated_at,username,message,thread_parent_message_id,channel_url,subreddit,channel_name,conversation_type"
                ),
                "chat_history.csv"
            ),
            Some(RedditFile::Chat)
        );
        assert_eq!(
            reddit_file(&cols("id,permalink,direction"), "comment_votes.csv"),
            Some(RedditFile::CommentVotes)
        );
        // LinkedIn's messages.csv is not Reddit's.
        assert_eq!(
            reddit_file(
                &cols("CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,DATE"),
                "messages.csv"
            ),
            None
        );
    }

    #[test]
    fn people_and_subreddits() {
        assert_eq!(person("/u/Sam_S").as_deref(), Some("u:sam_s"));
        assert_eq!(person("u/Sam_S").as_deref(), Some("u:sam_s"));
        assert_eq!(
            person("/r/AskHistorians").as_deref(),
            Some("r:askhistorians")
        );
        assert_eq!(person("[deleted]"), None);
        assert_eq!(user(" RobinEx "), Some("robinex".into()));
    }
}
