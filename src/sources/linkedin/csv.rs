//! Reading LinkedIn CSV files into records: the header skipped, lines counted (CRLF too), blank
//! rows dropped, invalid UTF-8 repaired, and Comments.csv's own reader (records broken by
//! unquoted commas and newlines start at a line with a date and a link). Hands each record to
//! the row handlers (`rows.rs`) — for a large file in batches on both cores, joined in file
//! order, while one core also inflates and splits records; no format rules of its own.

use crate::model::Source;
use std::borrow::Cow;
use std::io::{self, BufRead};

use super::FileKind;
use super::Layout;
use super::rows::{Col, Handler, Parsed, Record};
use crate::sources::text::parse_datetime;

/// Where each read column sits in a file's header (by [`Col::index`]).
pub(super) type Columns = [Option<usize>; Col::ALL.len()];

/// A CSV row: its line, its cells (valid UTF-8), and where each column is.
pub(super) struct CsvRow<'a> {
    pub(super) line: u64,
    pub(super) record: &'a csv::StringRecord,
    pub(super) columns: &'a Columns,
}

impl Record for CsvRow<'_> {
    fn line(&self) -> u64 {
        self.line
    }

    fn cell(&self, column: Col) -> Cow<'_, str> {
        let cell = self.columns[column.index()].and_then(|i| self.record.get(i));
        Cow::Borrowed(cell.unwrap_or(""))
    }
}

/// Where each read column sits in a file's header.
pub(super) fn layout_columns(layout: &Layout) -> Columns {
    Col::ALL.map(|c| layout.col(c.key()))
}

/// Skips `n` lines; returns how many lines were consumed and whether they ended in CRLF.
pub(super) fn skip_lines(r: &mut impl BufRead, n: usize) -> io::Result<(u64, bool)> {
    let mut buf = Vec::new();
    for i in 0..n {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok((i as u64, false));
        }
    }
    Ok((n as u64, buf.ends_with(b"\r\n")))
}

/// Files of at least this many inflated bytes have their rows handled on a second core.
const PIPELINE_BYTES: u64 = 4 << 20;

/// How a file's rows are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handling {
    /// By the thread that reads them.
    OnePass,
    /// On both cores (a large file, see `parse_csv`).
    Shared,
    /// As `Shared`, with every other batch handled by the reading thread (tests: the order
    /// of the pieces must not matter).
    #[cfg(test)]
    Alternating,
}

/// Reads the records of a file of `bytes` inflated bytes (after its header) into `out`.
pub(super) fn parse_records(
    reader: impl BufRead,
    skipped: (u64, bool),
    (layout, bytes): (&Layout, u64),
    source: &Source,
    seq_base: u64,
    out: &mut Parsed,
) -> io::Result<()> {
    let handling = if bytes >= PIPELINE_BYTES {
        Handling::Shared
    } else {
        Handling::OnePass
    };
    parse_records_by(reader, skipped, (layout, handling), source, seq_base, out)
}

/// [`parse_records`], with the rows handled as `handling` says.
pub(super) fn parse_records_by(
    reader: impl BufRead,
    (lines_before, crlf): (u64, bool),
    (layout, handling): (&Layout, Handling),
    source: &Source,
    seq_base: u64,
    out: &mut Parsed,
) -> io::Result<()> {
    let mut handler = Handler::new(layout.kind, source.clone(), seq_base);
    handler.reserve_ids(out);
    let read = if layout.kind == FileKind::Comments && comments_in_standard_order(layout) {
        parse_comments(reader, lines_before, &mut handler, out)
    } else {
        parse_csv(
            reader,
            (lines_before, crlf),
            layout,
            handling,
            &mut handler,
            out,
        )
    };
    handler.finish(out);
    read
}

fn parse_csv(
    reader: impl BufRead,
    (lines_before, crlf): (u64, bool),
    layout: &Layout,
    handling: Handling,
    handler: &mut Handler,
    out: &mut Parsed,
) -> io::Result<()> {
    let columns = layout_columns(layout);
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
    if handling == Handling::OnePass {
        return split_records(&mut csv, (lines_before, crlf), |batch| {
            handle_batch(&batch, &columns, handler, out);
            Some(batch)
        });
    }
    // A large file: inflating and splitting records runs here, and the rows are handled on
    // both cores: each batch goes to the other thread, unless that one is behind (its queue
    // is full), and then this thread handles the batch itself. Each thread's handler reads a
    // batch into a piece of its own; the pieces join the file's rows in file order, their
    // sequence numbers and id indices moved on, so the handler (ids, repeats, line numbers)
    // ends with exactly what a single pass gives.
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(usize, Batch)>(2);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Piece>();
    let mut theirs = handler.sibling();
    let mut ours = handler.sibling();
    let mut pieces = Pieces::default();
    let columns = &columns;
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            for (index, batch) in full_rx {
                // The reader may have stopped; then the piece is simply dropped.
                if done_tx
                    .send(Piece::read(index, batch, columns, &mut theirs))
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut index = 0;
        let read = split_records(&mut csv, (lines_before, crlf), |batch| {
            use std::sync::mpsc::TrySendError;
            let offer = match handling {
                #[cfg(test)]
                Handling::Alternating if index % 2 == 1 => Err(TrySendError::Full((index, batch))),
                _ => full_tx.try_send((index, batch)),
            };
            match offer {
                Ok(()) => {}
                Err(TrySendError::Full((index, batch))) => {
                    pieces.add(Piece::read(index, batch, columns, &mut ours));
                }
                // The handler stopped (it panicked): its join reports it.
                Err(TrySendError::Disconnected(_)) => return None,
            }
            index += 1;
            pieces.extend(done_rx.try_iter());
            pieces.join(handler, out);
            Some(pieces.spare.pop().unwrap_or_default())
        });
        drop(full_tx);
        let joined = worker.join();
        pieces.extend(done_rx.try_iter());
        pieces.join(handler, out);
        match joined {
            Ok(()) => read,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// What one batch of rows gave, read by a handler of its own (see `parse_csv`).
struct Piece {
    index: usize,
    parsed: Parsed,
    made: (Vec<(u64, usize)>, u64),
    /// The batch, its buffers to be filled again.
    batch: Batch,
}

impl Piece {
    fn read(index: usize, batch: Batch, columns: &Columns, handler: &mut Handler) -> Piece {
        let mut parsed = Parsed::with_room(handler.kind, batch.items.len());
        handle_batch(&batch, columns, handler, &mut parsed);
        Piece {
            index,
            parsed,
            made: handler.take_piece(),
            batch,
        }
    }
}

/// Pieces waiting for the ones before them, and emptied batches to fill again.
#[derive(Default)]
struct Pieces {
    next: usize,
    waiting: std::collections::BTreeMap<usize, Piece>,
    spare: Vec<Batch>,
}

impl Pieces {
    fn add(&mut self, piece: Piece) {
        self.waiting.insert(piece.index, piece);
    }

    fn extend(&mut self, pieces: impl Iterator<Item = Piece>) {
        for piece in pieces {
            self.add(piece);
        }
    }

    /// Appends to `out`, in file order, every piece whose predecessors are all in.
    fn join(&mut self, handler: &mut Handler, out: &mut Parsed) {
        while let Some(piece) = self.waiting.remove(&self.next) {
            let rows_before = handler.rows_in(out);
            out.append_piece(piece.parsed, handler.seq);
            handler.adopt(piece.made, rows_before);
            self.spare.push(piece.batch);
            self.next += 1;
        }
    }
}

/// Records of a file on their way to the handler (`parse_csv`): the records (buffers reused
/// from batch to batch) and, in file order, what each read gave.
#[derive(Default)]
struct Batch {
    records: Vec<csv::StringRecord>,
    items: Vec<Item>,
}

enum Item {
    /// The next record of `records`, at this line.
    Row(u64),
    /// A record the CSV reader could not read (its line, the reader's message).
    Unreadable(Option<u64>, String),
}

/// Records per batch: large enough that handing them over costs nothing, small enough that
/// the two cores start together.
const BATCH_RECORDS: usize = 1024;

/// Reads every record into batches and hands each full batch to `emit`, which gives back a
/// batch to fill next (`None` stops the reading).
fn split_records<R: io::Read>(
    csv: &mut csv::Reader<R>,
    (lines_before, crlf): (u64, bool),
    mut emit: impl FnMut(Batch) -> Option<Batch>,
) -> io::Result<()> {
    let mut batch = Batch::default();
    let mut used = 0usize;
    let mut first_seen = false;
    // Each record is read into the buffer of a batch's record, checked for UTF-8 once (the
    // reading core does it, not the handling one) and dropped when blank.
    let mut record = csv::ByteRecord::new();
    loop {
        if used == batch.records.len() {
            batch.records.push(csv::StringRecord::new());
        }
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
                if is_blank(&record) {
                    continue; // blank rows appear inside real exports
                }
                // The filled buffer goes into the batch, the batch's old one is read into next.
                let spare = std::mem::take(&mut batch.records[used]).into_byte_record();
                // Invalid UTF-8 in a cell is repaired lossily rather than the row lost.
                batch.records[used] = csv::StringRecord::from_byte_record_lossy(std::mem::replace(
                    &mut record,
                    spare,
                ));
                used += 1;
                batch.items.push(Item::Row(line));
            }
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(io::Error::other(e.to_string()));
                }
                let line = e.position().map(|p| lines_before + p.line());
                batch.items.push(Item::Unreadable(line, e.to_string()));
            }
        }
        if batch.items.len() >= BATCH_RECORDS {
            batch.records.truncate(used);
            let Some(mut next) = emit(batch) else {
                return Ok(());
            };
            next.items.clear();
            batch = next;
            used = 0;
        }
    }
    batch.records.truncate(used);
    if !batch.items.is_empty() {
        emit(batch);
    }
    Ok(())
}

/// Hands a batch's rows and unreadable records to the handler, in file order.
fn handle_batch(batch: &Batch, columns: &Columns, handler: &mut Handler, out: &mut Parsed) {
    let mut next = 0;
    for item in &batch.items {
        match item {
            Item::Row(line) => {
                if let Some(record) = batch.records.get(next) {
                    let line = *line;
                    handler.row(
                        &CsvRow {
                            line,
                            record,
                            columns,
                        },
                        out,
                    );
                }
                next += 1;
            }
            Item::Unreadable(line, why) => {
                out.diag
                    .skip(&handler.source, *line, "unreadable CSV record", why.clone())
            }
        }
    }
}

/// True for a record whose cells are all blank.
fn is_blank(record: &csv::ByteRecord) -> bool {
    record
        .iter()
        .all(|c| c.iter().all(|b| b.is_ascii_whitespace()))
}

pub(super) fn comments_in_standard_order(layout: &Layout) -> bool {
    layout.columns.len() >= 3
        && layout.columns[0] == "date"
        && layout.columns[1] == "link"
        && layout.columns[2] == "message"
}

/// True when a line begins a Comments.csv record: a date (or nothing) then a link.
pub(super) fn starts_comment_record(line: &[u8]) -> Option<(String, String, usize)> {
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
pub(super) fn split_field(text: &str) -> Option<(String, &str)> {
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
pub(super) fn parse_comments(
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
pub(super) const MAX_COMMENT_BYTES: usize = 1 << 20;

pub(super) fn trim_eol(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
        end -= 1;
    }
    &b[..end]
}
