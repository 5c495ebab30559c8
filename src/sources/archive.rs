//! Opening an export: a zip, a `.tar.gz` or plain `.tar`, a single file (e.g. a Bluesky `.car`)
//! or an extracted folder, listed as entries and read as streams, never extracted to disk.
//! Containers are recognised by their first bytes, not their names. Owns the inflated-bytes
//! cap (zip bomb guard) and the reading of a zip's entries (the zip crate lists the central
//! directory; each entry is then inflated and checked from where the directory says it is);
//! knows nothing of formats.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::SourceError;

/// What holds the export's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    /// A zip archive.
    Zip,
    /// A folder (an archive extracted by the user).
    Folder,
    /// A gzip-compressed tar (Mastodon account archives). Entries are found in one pass;
    /// reading an entry that was not kept from that pass streams the archive again up to it.
    TarGz,
    /// An uncompressed tar (a Mastodon archive some browsers or tools un-gzip on download):
    /// every entry is read in place, at its offset.
    Tar,
    /// One plain file that is the export itself (a Bluesky repository `.car`).
    File,
}

impl ContainerKind {
    /// `zip`, `folder`, `tar.gz`, `tar` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::Zip => "zip",
            ContainerKind::Folder => "folder",
            ContainerKind::TarGz => "tar.gz",
            ContainerKind::Tar => "tar",
            ContainerKind::File => "file",
        }
    }
}

/// One file inside an export.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the export, `/`-separated.
    pub name: String,
    /// Declared uncompressed size in bytes.
    pub size: u64,
    /// Zip: the central directory index; tar: the entry number; plain tar: unused.
    index: usize,
    /// Plain tar: where the entry's bytes start in the file.
    offset: u64,
}

impl Entry {
    /// The last path component.
    pub fn basename(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// Number of folders above the file.
    pub fn depth(&self) -> usize {
        self.name.matches('/').count()
    }
}

/// A file read at explicit offsets, so one open file serves every reader: cloning it is cheap
/// and each clone keeps its own position (the zip index is parsed once, not per entry).
/// Small reads are served from a little block of the file: the zip index is parsed field by
/// field, which would otherwise cost a system call per field (0.17 s for 71k entries).
#[derive(Debug)]
struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
    /// Bytes of the file from `block_at` (empty until a small read).
    block: Vec<u8>,
    block_at: u64,
}

/// How much a small read fetches (a few zip headers; little waste on a small entry).
const BLOCK: usize = 4096;

impl SharedFile {
    fn new(file: File, len: u64) -> SharedFile {
        SharedFile {
            file: Arc::new(file),
            pos: 0,
            len,
            block: Vec::new(),
            block_at: 0,
        }
    }

    fn read_at(&self, buf: &mut [u8], at: u64) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, at)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, at)?;
        Ok(n)
    }
}

impl Clone for SharedFile {
    /// Shares the open file; the clone starts with no block of its own.
    fn clone(&self) -> SharedFile {
        SharedFile {
            file: Arc::clone(&self.file),
            pos: self.pos,
            len: self.len,
            block: Vec::new(),
            block_at: 0,
        }
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let in_block =
            self.pos >= self.block_at && self.pos < self.block_at + self.block.len() as u64;
        if !in_block {
            if buf.len() >= BLOCK {
                let n = self.read_at(buf, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            let mut block = std::mem::take(&mut self.block);
            block.resize(BLOCK, 0);
            let n = self.read_at(&mut block, self.pos)?;
            block.truncate(n);
            self.block = block;
            self.block_at = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let from = (self.pos - self.block_at) as usize;
        let n = buf.len().min(self.block.len() - from);
        buf[..n].copy_from_slice(&self.block[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let next = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = next.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}

/// What reading a zip's entries needs of its central directory, kept once the zip crate has
/// parsed and listed it. The crate's own index is dropped: it keeps ~450 bytes an entry (the
/// name twice, extra fields, comment, times), 64 MB for the 143k entries (folders included)
/// of a Meta export with 71k DM threads, where a [`ZipSpot`] takes 24.
#[derive(Debug)]
struct ZipIndex {
    file: SharedFile,
    /// By [`Entry::index`].
    spots: Vec<ZipSpot>,
}

/// Where one zip entry's bytes are and how they are stored, from the central directory (which
/// holds the sizes and checksum even when the local header defers them to a data descriptor).
#[derive(Debug, Clone, Copy)]
struct ZipSpot {
    /// Where its local header starts.
    header: u64,
    compressed: u64,
    crc: u32,
    method: ZipMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZipMethod {
    Stored,
    Deflated,
    /// Encrypted (ZipCrypto or AES): not readable without a password.
    Encrypted,
    /// Any other compression (bzip2, LZMA, …): exports use deflate.
    Unsupported,
}

impl ZipIndex {
    /// A reader of `entry`'s inflated bytes, refused as the zip crate refuses them: a local
    /// header without its signature, a password needed, another compression; and failing as
    /// it fails, on more bytes than the directory declares and on a checksum that does not
    /// match at the end.
    fn open(&self, entry: &Entry) -> io::Result<ZipEntryReader> {
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let spot = *self
            .spots
            .get(entry.index)
            .ok_or_else(|| io::Error::other("zip entry not in the index"))?;
        match spot.method {
            ZipMethod::Encrypted => return Err(invalid("encrypted entry: a password is required")),
            ZipMethod::Unsupported => return Err(invalid("compression method not supported")),
            ZipMethod::Stored | ZipMethod::Deflated => {}
        }
        let mut file = self.file.clone();
        file.seek(SeekFrom::Start(spot.header))?;
        let mut head = [0u8; 30];
        file.read_exact(&mut head)
            .map_err(|_| invalid("invalid local file header (cut short)"))?;
        if head[..4] != *b"PK\x03\x04" {
            return Err(invalid("invalid local file header"));
        }
        let name = u64::from(u16::from_le_bytes([head[26], head[27]]));
        let extra = u64::from(u16::from_le_bytes([head[28], head[29]]));
        file.seek(SeekFrom::Start(spot.header + 30 + name + extra))?;
        // Bytes fitted to the compressed size: thousands of small entries each get a little
        // buffer, a large one 32 KiB reads.
        let buffer = usize::try_from(spot.compressed)
            .unwrap_or(usize::MAX)
            .clamp(512, 32 * 1024);
        let raw = BufReader::with_capacity(buffer, file.take(spot.compressed));
        let inner = match spot.method {
            ZipMethod::Deflated => Inflate::Deflated(flate2::bufread::DeflateDecoder::new(raw)),
            _ => Inflate::Stored(raw),
        };
        Ok(ZipEntryReader {
            inner,
            crc: crc32fast::Hasher::new(),
            expect: spot.crc,
            declared: entry.size,
            read: 0,
        })
    }
}

enum Inflate {
    Stored(BufReader<io::Take<SharedFile>>),
    Deflated(flate2::bufread::DeflateDecoder<BufReader<io::Take<SharedFile>>>),
}

/// An entry's inflated bytes, counted against its declared size and checked against its
/// CRC-32 at the end.
struct ZipEntryReader {
    inner: Inflate,
    crc: crc32fast::Hasher,
    expect: u32,
    declared: u64,
    read: u64,
}

impl Read for ZipEntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            Inflate::Stored(r) => r.read(buf)?,
            Inflate::Deflated(r) => r.read(buf)?,
        };
        self.read = self.read.saturating_add(n as u64);
        if self.read > self.declared {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry is larger than its declared uncompressed size",
            ));
        }
        self.crc.update(&buf[..n]);
        if n == 0 && !buf.is_empty() && self.crc.clone().finalize() != self.expect {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "invalid checksum (the entry is damaged)",
            ));
        }
        Ok(n)
    }
}

/// The files of a zip (folders left out) and where each one's bytes are, from its central
/// directory; the zip crate's index is dropped on return.
fn list_zip(shared: SharedFile) -> zip::result::ZipResult<(Vec<Entry>, Vec<ZipSpot>)> {
    let zip = zip::ZipArchive::new(shared)?;
    let mut entries = Vec::with_capacity(zip.len());
    let mut spots = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        // The central directory says all we list: no local header is read here.
        let file = zip.by_index_data(i)?;
        if file.is_dir() {
            continue;
        }
        // Names are UTF-8 when the zip says so, CP437 otherwise (the zip crate decides).
        let name = file.name()?;
        entries.push(Entry {
            name: name.replace('\\', "/"),
            size: file.size(),
            index: spots.len(),
            offset: 0,
        });
        spots.push(ZipSpot {
            header: file.header_start(),
            compressed: file.compressed_size(),
            crc: file.crc32(),
            method: if file.encrypted() {
                ZipMethod::Encrypted
            } else {
                match file.compression() {
                    zip::CompressionMethod::Stored => ZipMethod::Stored,
                    zip::CompressionMethod::Deflated => ZipMethod::Deflated,
                    _ => ZipMethod::Unsupported,
                }
            },
        });
    }
    Ok((entries, spots))
}

/// An opened export.
#[derive(Debug)]
pub struct Archive {
    path: PathBuf,
    kind: ContainerKind,
    entries: Vec<Entry>,
    inflated: Arc<AtomicU64>,
    max_inflated: u64,
    damage: Option<String>,
    /// Zip: where each entry's bytes are (by `Entry::index`) and the shared open file.
    zip: Option<ZipIndex>,
    /// tar.gz only: small data files kept from the listing pass (by entry index), so reading
    /// them does not stream the whole archive again (Mastodon writes actor.json after the media).
    cached: std::collections::HashMap<usize, Arc<[u8]>>,
}

/// tar.gz entries up to this size with a data-file extension are kept from the listing pass…
const CACHE_ENTRY_BYTES: u64 = 16 * 1024 * 1024;
/// …as long as all of them together stay under this.
const CACHE_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
/// Bytes a tar.gz listing pass may inflate just to skip over entries (media), as a multiple of
/// the inflated-bytes cap. Skipped bytes are not data rapport reads, so they do not count
/// against the cap itself; this bound only keeps a hostile archive from inflating for ever.
const SKIP_FACTOR: u64 = 64;

fn is_data_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".json", ".js", ".csv", ".txt", ".html", ".car"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Archive {
    fn new(path: &Path, kind: ContainerKind, entries: Vec<Entry>, max_inflated: u64) -> Archive {
        Archive {
            path: path.to_path_buf(),
            kind,
            entries,
            inflated: Arc::new(AtomicU64::new(0)),
            max_inflated,
            damage: None,
            zip: None,
            cached: Default::default(),
        }
    }

    /// Opens `path` as a zip, tar(.gz), CAR or folder, recognised by content. Fails with a
    /// message that says what the file is instead.
    pub fn open(path: &Path, max_inflated: u64) -> Result<Archive, SourceError> {
        let meta = std::fs::metadata(path).map_err(|e| SourceError::Missing {
            path: path.to_path_buf(),
            source: e,
        })?;
        if meta.is_dir() {
            let mut entries = Vec::new();
            walk(path, path, &mut entries).map_err(io_error(path))?;
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            for (i, e) in entries.iter_mut().enumerate() {
                e.index = i;
            }
            return Ok(Archive::new(
                path,
                ContainerKind::Folder,
                entries,
                max_inflated,
            ));
        }
        let mut magic = [0u8; 512];
        let mut f = File::open(path).map_err(io_error(path))?;
        let n = read_up_to(&mut f, &mut magic).map_err(io_error(path))?;
        let magic = &magic[..n];
        if n == 0 {
            return Err(SourceError::NotAnArchive {
                path: path.to_path_buf(),
                what: "the file is empty".into(),
            });
        }
        if magic.starts_with(&[0x1f, 0x8b]) {
            return Archive::open_tar_gz(path, max_inflated);
        }
        if is_tar(magic) {
            return Archive::open_tar(path, f, meta.len(), max_inflated);
        }
        if looks_like_car(magic) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "repo.car".into());
            let entry = Entry {
                name,
                size: meta.len(),
                index: 0,
                offset: 0,
            };
            return Ok(Archive::new(
                path,
                ContainerKind::File,
                vec![entry],
                max_inflated,
            ));
        }
        if !(magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06")) {
            return Err(SourceError::NotAnArchive {
                path: path.to_path_buf(),
                what: describe_magic(magic),
            });
        }
        let bad_zip = |e: zip::result::ZipError| SourceError::BadZip {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let shared = SharedFile::new(f, meta.len());
        // Listed on a thread of its own, which ends with the zip crate's index dropped, so that
        // the memory it took (see [`ZipIndex`]) is returned rather than kept by this thread.
        let listed = std::thread::scope(|s| {
            s.spawn(|| list_zip(shared.clone()))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        let (entries, spots) = listed.map_err(bad_zip)?;
        let mut archive = Archive::new(path, ContainerKind::Zip, entries, max_inflated);
        archive.zip = Some(ZipIndex {
            file: shared,
            spots,
        });
        Ok(archive)
    }

    /// Lists a plain tar: entry names, sizes and where their bytes are (read in place later).
    fn open_tar(
        path: &Path,
        mut file: File,
        len: u64,
        max_inflated: u64,
    ) -> Result<Archive, SourceError> {
        file.seek(SeekFrom::Start(0)).map_err(io_error(path))?;
        let mut tar = tar::Archive::new(BufReader::with_capacity(64 * 1024, file));
        let mut entries = Vec::new();
        let mut damage = None;
        let iter = tar.entries().map_err(|e| SourceError::BadZip {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for (i, item) in iter.enumerate() {
            match item {
                Ok(e) => {
                    if !e.header().entry_type().is_file() {
                        continue;
                    }
                    let offset = e.raw_file_position();
                    let size = e.size().min(len.saturating_sub(offset));
                    if let Some(name) = tar_name(&e) {
                        entries.push(Entry {
                            name,
                            size,
                            index: i,
                            offset,
                        });
                    }
                }
                Err(e) => {
                    damage = Some(format!("after entry {i}: {e}"));
                    break;
                }
            }
        }
        if entries.is_empty()
            && let Some(d) = &damage
        {
            return Err(SourceError::BadZip {
                path: path.to_path_buf(),
                message: format!("tar: {d}"),
            });
        }
        let mut archive = Archive::new(path, ContainerKind::Tar, entries, max_inflated);
        archive.damage = damage;
        Ok(archive)
    }

    /// Lists a `.tar.gz` in one streaming pass. A damaged or truncated archive keeps the
    /// entries found before the damage (see [`Archive::damage`]); none at all is an error.
    /// Only the bytes kept from this pass count against the inflated-bytes cap: media is
    /// skipped over, not read.
    fn open_tar_gz(path: &Path, max_inflated: u64) -> Result<Archive, SourceError> {
        let file = File::open(path).map_err(io_error(path))?;
        let skipped = AtomicU64::new(0);
        let skip_budget = max_inflated.saturating_mul(SKIP_FACTOR);
        let stream = Capped {
            inner: flate2::read::GzDecoder::new(BufReader::with_capacity(256 * 1024, file)),
            counter: &skipped,
            max: skip_budget,
        };
        let mut tar = tar::Archive::new(stream);
        let mut entries = Vec::new();
        let mut damage = None;
        let mut cached = std::collections::HashMap::new();
        let mut cached_bytes = 0u64;
        let kept = AtomicU64::new(0);
        let too_large = |entry: String, max: u64| SourceError::TooLarge {
            path: path.to_path_buf(),
            entry,
            max,
        };
        let iter = tar.entries().map_err(|e| SourceError::BadZip {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for (i, item) in iter.enumerate() {
            let mut e = match item {
                Ok(e) => e,
                Err(e) if is_cap(&e) => return Err(too_large("(listing)".into(), skip_budget)),
                Err(e) => {
                    damage = Some(format!("after entry {i}: {e}"));
                    break;
                }
            };
            if !e.header().entry_type().is_file() {
                continue;
            }
            let Some(name) = tar_name(&e) else { continue };
            let size = e.size();
            let entry = Entry {
                name,
                size,
                index: i,
                offset: 0,
            };
            if size <= CACHE_ENTRY_BYTES
                && cached_bytes + size <= CACHE_TOTAL_BYTES
                && is_data_file(&entry.name)
            {
                let mut buf = Vec::with_capacity(size as usize);
                let mut counted = Capped {
                    inner: &mut e,
                    counter: &kept,
                    max: max_inflated,
                };
                match counted.read_to_end(&mut buf) {
                    Ok(_) => {
                        cached_bytes += buf.len() as u64;
                        cached.insert(i, Arc::from(buf));
                    }
                    Err(err) if is_cap(&err) => {
                        let max = if kept.load(Ordering::Relaxed) > max_inflated {
                            max_inflated
                        } else {
                            skip_budget
                        };
                        return Err(too_large(entry.name, max));
                    }
                    Err(err) => {
                        // Listed without a cache: reading it streams what is there and
                        // lets the importer report where it broke.
                        damage = Some(format!("in entry {}: {err}", entry.name));
                        entries.push(entry);
                        break;
                    }
                }
            }
            entries.push(entry);
        }
        if entries.is_empty()
            && let Some(d) = &damage
        {
            return Err(SourceError::BadZip {
                path: path.to_path_buf(),
                message: format!("tar.gz: {d}"),
            });
        }
        let mut archive = Archive::new(path, ContainerKind::TarGz, entries, max_inflated);
        archive.damage = damage;
        archive.cached = cached;
        Ok(archive)
    }

    /// For a damaged tar: where listing stopped. Importers report it as a warning.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// The path given by the user.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Zip, tar, folder or file.
    pub fn kind(&self) -> ContainerKind {
        self.kind
    }

    /// Every file of the export.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Total bytes inflated (or read) so far.
    pub fn inflated_bytes(&self) -> u64 {
        self.inflated.load(Ordering::Relaxed)
    }

    /// Streams one entry through `f`. Every byte read counts against the inflated-bytes cap;
    /// passing it aborts the read with [`SourceError::TooLarge`]. Safe to call from several
    /// threads at once (each call has its own reader).
    pub fn read<T>(
        &self,
        entry: &Entry,
        f: impl FnOnce(&mut dyn Read) -> io::Result<T>,
    ) -> Result<T, SourceError> {
        let already = self.inflated.load(Ordering::Relaxed);
        if entry.size.saturating_add(already) > self.max_inflated {
            return Err(self.too_large(entry));
        }
        let io_err = |e: io::Error| -> SourceError {
            if is_cap(&e) {
                self.too_large(entry)
            } else {
                SourceError::Entry {
                    path: self.path.clone(),
                    entry: entry.name.clone(),
                    message: e.to_string(),
                }
            }
        };
        // A buffer fitted to the entry: an export of thousands of small files would otherwise
        // allocate (and the allocator zero) 256 KiB for each.
        let buffer = (entry.size as usize)
            .saturating_add(1)
            .clamp(8 * 1024, 256 * 1024);
        let capped = |inner: &mut dyn Read, f: &mut dyn FnMut(&mut dyn Read) -> io::Result<T>| {
            let mut r = Capped {
                inner: BufReader::with_capacity(buffer, inner),
                counter: &self.inflated,
                max: self.max_inflated,
            };
            f(&mut r)
        };
        let mut f = Some(f);
        let mut call = |r: &mut dyn Read| match f.take() {
            Some(f) => f(r),
            None => Err(io::Error::other("entry read twice")),
        };
        match self.kind {
            ContainerKind::File => {
                let mut file = File::open(&self.path).map_err(io_err)?;
                capped(&mut file, &mut call).map_err(io_err)
            }
            ContainerKind::Folder => {
                let mut file = File::open(self.path.join(&entry.name)).map_err(io_err)?;
                capped(&mut file, &mut call).map_err(io_err)
            }
            ContainerKind::Tar => {
                let mut file = File::open(&self.path).map_err(io_err)?;
                file.seek(SeekFrom::Start(entry.offset)).map_err(io_err)?;
                capped(&mut file.take(entry.size), &mut call).map_err(io_err)
            }
            ContainerKind::TarGz => {
                if let Some(bytes) = self.cached.get(&entry.index) {
                    let mut r = Capped {
                        inner: io::Cursor::new(&bytes[..]),
                        counter: &self.inflated,
                        max: self.max_inflated,
                    };
                    return call(&mut r).map_err(io_err);
                }
                let file = File::open(&self.path).map_err(io_err)?;
                let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(
                    BufReader::with_capacity(256 * 1024, file),
                ));
                for (i, item) in tar.entries().map_err(io_err)?.enumerate() {
                    let mut item = item.map_err(io_err)?;
                    if i == entry.index {
                        return capped(&mut item, &mut call).map_err(io_err);
                    }
                }
                Err(io_err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "entry not found on the second pass (the archive changed?)",
                )))
            }
            ContainerKind::Zip => {
                let Some(zip) = &self.zip else {
                    return Err(io_err(io::Error::other("zip index missing")));
                };
                let mut zf = zip.open(entry).map_err(io_err)?;
                capped(&mut zf, &mut call).map_err(io_err)
            }
        }
    }

    /// Reads the first `limit` bytes of an entry (for sniffing headers).
    pub fn head(&self, entry: &Entry, limit: usize) -> Result<Vec<u8>, SourceError> {
        self.read(entry, |r| {
            let mut buf = Vec::with_capacity(limit.min(1 << 16));
            r.take(limit as u64).read_to_end(&mut buf)?;
            Ok(buf)
        })
    }

    fn too_large(&self, entry: &Entry) -> SourceError {
        SourceError::TooLarge {
            path: self.path.clone(),
            entry: entry.name.clone(),
            max: self.max_inflated,
        }
    }
}

/// The `/`-separated path of a tar entry, `None` for an entry without a usable name.
fn tar_name<R: Read>(e: &tar::Entry<'_, R>) -> Option<String> {
    let name = e.path().ok()?.to_string_lossy().replace('\\', "/");
    let name = name.trim_start_matches("./").to_string();
    (!name.is_empty()).then_some(name)
}

/// The message of the I/O error the cap raises (importers must pass it on unchanged).
pub const CAP_MESSAGE: &str = "rapport: inflated-bytes cap reached";

/// True for the cap's I/O error, also when a parser wrapped it.
pub fn is_cap(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Other && e.to_string().contains(CAP_MESSAGE)
}

/// A reader that counts bytes into a shared counter and fails past the cap.
struct Capped<'a, R> {
    inner: R,
    counter: &'a AtomicU64,
    max: u64,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.counter.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.max {
            return Err(io::Error::other(CAP_MESSAGE));
        }
        Ok(n)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A tar file: a POSIX (`ustar\0`) or GNU (`ustar  `) header magic at byte 257 of the first
/// block, and a header checksum that adds up (for old v7 tars without the magic).
fn is_tar(block: &[u8]) -> bool {
    if block.len() < 512 {
        return false;
    }
    if &block[257..262] == b"ustar" {
        return true;
    }
    // v7: the checksum field (bytes 148..156, octal) is the sum of the header bytes with the
    // field itself read as spaces.
    let field = std::str::from_utf8(&block[148..156]).unwrap_or("");
    let Ok(stored) = u32::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = block[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    stored == sum && block[0] != 0
}

/// A CAR v1 file starts with a varint header length and a DAG-CBOR map holding `roots` and
/// `version`.
fn looks_like_car(magic: &[u8]) -> bool {
    let magic = &magic[..magic.len().min(64)];
    magic.len() >= 10
        && magic[0] < 0x80
        && (magic[1] & 0xe0) == 0xa0
        && (magic.windows(5).any(|w| w == b"roots") || magic.windows(7).any(|w| w == b"version"))
}

fn describe_magic(magic: &[u8]) -> String {
    let magic = &magic[..magic.len().min(16)];
    if magic.starts_with(&[0x1f, 0x8b]) {
        "it is gzip-compressed but not a tar archive".into()
    } else if magic
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "it looks like a text file, not an archive; pass the whole export (.zip, .tar.gz or the extracted folder)"
            .into()
    } else {
        "it does not start with a zip, tar or gzip signature".into()
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> io::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        let ft = item.file_type()?;
        let path = item.path();
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push(Entry {
                name,
                size: item.metadata()?.len(),
                index: 0,
                offset: 0,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, body) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *body).expect("append");
        }
        b.into_inner().expect("tar")
    }

    #[test]
    fn plain_tar_is_read_like_a_tar_gz() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("archive-2024.tar");
        let bytes = tar_bytes(&[("outbox.json", b"{\"a\":1}"), ("actor.json", b"{}")]);
        std::fs::write(&path, &bytes).expect("write");
        let a = Archive::open(&path, u64::MAX).expect("open");
        assert_eq!(a.kind(), ContainerKind::Tar);
        let names: Vec<&str> = a.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["outbox.json", "actor.json"]);
        let text = a
            .read(&a.entries()[0], |r| {
                let mut s = String::new();
                r.read_to_string(&mut s)?;
                Ok(s)
            })
            .expect("read");
        assert_eq!(text, "{\"a\":1}");
    }

    #[test]
    fn tar_gz_media_is_skipped_not_counted_against_the_cap() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a.tar.gz");
        let media = vec![0u8; 200_000];
        let tar = tar_bytes(&[
            ("media_attachments/files/1.png", &media),
            ("actor.json", b"{}"),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).expect("gz");
        std::fs::write(&path, gz.finish().expect("gz")).expect("write");
        // A cap far below the media's size: the media is listed, not read.
        let a = Archive::open(&path, 10_000).expect("media does not count");
        assert_eq!(a.entries().len(), 2);
        // Reading the media itself does count.
        let big = &a.entries()[0];
        assert!(matches!(
            a.read(big, |r| io::copy(r, &mut io::sink())),
            Err(SourceError::TooLarge { .. })
        ));
    }

    #[test]
    fn zip_index_is_shared_by_every_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x.zip");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
        for i in 0..50 {
            w.start_file(
                format!("f{i}.csv"),
                zip::write::SimpleFileOptions::default(),
            )
            .expect("start");
            std::io::Write::write_all(&mut w, format!("row {i}\n").as_bytes()).expect("write");
        }
        w.finish().expect("finish");
        let a = Archive::open(&path, u64::MAX).expect("open");
        // Reads from several threads at once, each its own position in the one file.
        std::thread::scope(|s| {
            for e in a.entries() {
                let a = &a;
                s.spawn(move || {
                    let text = a
                        .read(e, |r| {
                            let mut s = String::new();
                            r.read_to_string(&mut s)?;
                            Ok(s)
                        })
                        .expect("read");
                    assert_eq!(text, format!("row {}\n", &e.name[1..e.name.len() - 4]));
                });
            }
        });
    }

    /// A zip of `files`, each stored or deflated; returns its bytes.
    fn zip_bytes(files: &[(&str, &[u8], zip::CompressionMethod)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, body, method) in files {
            let options = zip::write::SimpleFileOptions::default().compression_method(*method);
            w.start_file(*name, options).expect("start");
            std::io::Write::write_all(&mut w, body).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    fn read_text(a: &Archive, i: usize) -> Result<String, SourceError> {
        a.read(&a.entries()[i], |r| {
            let mut s = String::new();
            r.read_to_string(&mut s)?;
            Ok(s)
        })
    }

    #[test]
    fn zip_stored_and_deflated_entries_read_back_after_the_index_is_dropped() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x.zip");
        let long = "a deflated line\n".repeat(5_000);
        let bytes = zip_bytes(&[
            (
                "dir/stored.json",
                b"{\"stored\":1}",
                zip::CompressionMethod::Stored,
            ),
            (
                "deflated.csv",
                long.as_bytes(),
                zip::CompressionMethod::Deflated,
            ),
            ("empty.txt", b"", zip::CompressionMethod::Deflated),
        ]);
        std::fs::write(&path, bytes).expect("write");
        let a = Archive::open(&path, u64::MAX).expect("open");
        let names: Vec<&str> = a.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["dir/stored.json", "deflated.csv", "empty.txt"]);
        assert_eq!(read_text(&a, 0).expect("stored"), "{\"stored\":1}");
        assert_eq!(read_text(&a, 1).expect("deflated"), long);
        assert_eq!(read_text(&a, 2).expect("empty"), "");
        assert_eq!(
            a.head(&a.entries()[1], 15).expect("head"),
            b"a deflated line"
        );
    }

    #[test]
    fn zip_entry_damaged_inside_fails_its_checksum() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x.zip");
        let body = b"{\"posts\":[1,2,3]}";
        let mut bytes = zip_bytes(&[("posts.json", body, zip::CompressionMethod::Stored)]);
        // The stored body's first byte, right after the local header and the name.
        let at = 30 + "posts.json".len();
        assert_eq!(bytes[at], b'{');
        bytes[at] = b'[';
        std::fs::write(&path, bytes).expect("write");
        let a = Archive::open(&path, u64::MAX).expect("the directory is intact");
        let err = read_text(&a, 0).expect_err("damaged");
        assert!(err.to_string().contains("checksum"), "{err}");
    }

    #[test]
    fn zip_entry_whose_local_header_is_overwritten_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x.zip");
        let mut bytes = zip_bytes(&[
            ("a.json", b"{}", zip::CompressionMethod::Stored),
            ("b.json", b"[]", zip::CompressionMethod::Stored),
        ]);
        // The second entry's local header (the file must still start as a zip).
        let second = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == b"PK\x03\x04")
            .nth(1)
            .map(|(i, _)| i)
            .expect("two local headers");
        bytes[second..second + 4].copy_from_slice(b"XXXX");
        std::fs::write(&path, bytes).expect("write");
        let a = Archive::open(&path, u64::MAX).expect("the directory is intact");
        let err = read_text(&a, 1).expect_err("no local header");
        let message = err.to_string();
        assert!(
            message.contains("local file header") && message.contains("b.json"),
            "{message}"
        );
        // The other entry still reads.
        assert_eq!(read_text(&a, 0).expect("a"), "{}");
    }

    #[test]
    fn zip_entry_longer_than_declared_is_an_error_not_extra_data() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x.zip");
        let bytes = zip_bytes(&[("a.json", b"[1,2,3,4]", zip::CompressionMethod::Stored)]);
        std::fs::write(&path, bytes).expect("write");
        let a = Archive::open(&path, u64::MAX).expect("open");
        // The same entry as if its directory declared fewer bytes than it holds.
        let mut short = a.entries()[0].clone();
        short.size = 4;
        let err = a
            .read(&short, |r| io::copy(r, &mut io::sink()))
            .expect_err("larger than declared");
        assert!(
            err.to_string().contains("larger than its declared"),
            "{err}"
        );
    }
}
