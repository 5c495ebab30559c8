//! Opening an export: a zip, a `.tar.gz`, a single file (e.g. a Bluesky `.car`) or an extracted
//! folder, listed as entries and read as streams, never extracted to disk. Owns the
//! inflated-bytes cap (zip bomb guard); knows nothing of formats.

use std::fs::File;
use std::io::{self, BufReader, Read};
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
    /// reading an entry streams the archive again up to it.
    TarGz,
    /// One plain file that is the export itself (a Bluesky repository `.car`).
    File,
}

impl ContainerKind {
    /// `zip`, `folder`, `tar.gz` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::Zip => "zip",
            ContainerKind::Folder => "folder",
            ContainerKind::TarGz => "tar.gz",
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
    index: usize,
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

/// An opened export.
#[derive(Debug)]
pub struct Archive {
    path: PathBuf,
    kind: ContainerKind,
    entries: Vec<Entry>,
    inflated: Arc<AtomicU64>,
    max_inflated: u64,
    damage: Option<String>,
    /// tar.gz only: small data files kept from the listing pass (by entry index), so reading
    /// them does not stream the whole archive again (Mastodon writes actor.json after the media).
    cached: std::collections::HashMap<usize, Arc<[u8]>>,
}

/// tar.gz entries up to this size with a data-file extension are kept from the listing pass.
const CACHE_ENTRY_BYTES: u64 = 16 * 1024 * 1024;

fn is_data_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".json", ".js", ".csv", ".txt", ".html", ".car"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

impl Archive {
    /// Opens `path` as a zip or folder. Fails with a message that says what the file is instead.
    pub fn open(path: &Path, max_inflated: u64) -> Result<Archive, SourceError> {
        let meta = std::fs::metadata(path).map_err(|e| SourceError::Missing {
            path: path.to_path_buf(),
            source: e,
        })?;
        let inflated = Arc::new(AtomicU64::new(0));
        if meta.is_dir() {
            let mut entries = Vec::new();
            walk(path, path, &mut entries).map_err(|e| SourceError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            for (i, e) in entries.iter_mut().enumerate() {
                e.index = i;
            }
            return Ok(Archive {
                path: path.to_path_buf(),
                kind: ContainerKind::Folder,
                entries,
                inflated,
                max_inflated,
                damage: None,
                cached: Default::default(),
            });
        }
        let mut magic = [0u8; 16];
        let mut f = File::open(path).map_err(|e| SourceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let n = read_up_to(&mut f, &mut magic).map_err(|e| SourceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        if n == 0 {
            return Err(SourceError::NotAnArchive {
                path: path.to_path_buf(),
                what: "the file is empty".into(),
            });
        }
        if magic[..n].starts_with(&[0x1f, 0x8b]) {
            return Archive::open_tar_gz(path, max_inflated);
        }
        if looks_like_car(&magic[..n]) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "repo.car".into());
            return Ok(Archive {
                path: path.to_path_buf(),
                kind: ContainerKind::File,
                entries: vec![Entry {
                    name,
                    size: meta.len(),
                    index: 0,
                }],
                inflated,
                max_inflated,
                damage: None,
                cached: Default::default(),
            });
        }
        if !(magic[..n].starts_with(b"PK\x03\x04") || magic[..n].starts_with(b"PK\x05\x06")) {
            return Err(SourceError::NotAnArchive {
                path: path.to_path_buf(),
                what: describe_magic(&magic[..n]),
            });
        }
        let zip = zip::ZipArchive::new(BufReader::new(f)).map_err(|e| SourceError::BadZip {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut entries = Vec::with_capacity(zip.len());
        let mut zip = zip;
        for i in 0..zip.len() {
            let file = zip.by_index_raw(i).map_err(|e| SourceError::BadZip {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            if file.is_dir() {
                continue;
            }
            // Names are UTF-8 when the zip says so, CP437 otherwise (the zip crate decides).
            let name = file.name().map_err(|e| SourceError::BadZip {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            entries.push(Entry {
                name: name.replace('\\', "/"),
                size: file.size(),
                index: i,
            });
        }
        Ok(Archive {
            path: path.to_path_buf(),
            kind: ContainerKind::Zip,
            entries,
            inflated,
            max_inflated,
            damage: None,
            cached: Default::default(),
        })
    }

    /// Lists a `.tar.gz` in one streaming pass. A damaged or truncated archive keeps the
    /// entries found before the damage (see [`Archive::damage`]); none at all is an error.
    fn open_tar_gz(path: &Path, max_inflated: u64) -> Result<Archive, SourceError> {
        let inflated = Arc::new(AtomicU64::new(0));
        let file = File::open(path).map_err(|e| SourceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let capped = Capped {
            inner: flate2::read::GzDecoder::new(BufReader::with_capacity(256 * 1024, file)),
            counter: &inflated,
            max: max_inflated,
        };
        let mut tar = tar::Archive::new(capped);
        let mut entries = Vec::new();
        let mut damage = None;
        let mut cached = std::collections::HashMap::new();
        let bad = |e: io::Error| SourceError::BadZip {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let iter = tar.entries().map_err(bad)?;
        for (i, item) in iter.enumerate() {
            match item {
                Ok(mut e) => {
                    if !e.header().entry_type().is_file() {
                        continue;
                    }
                    let name = e
                        .path()
                        .map(|p| p.to_string_lossy().replace('\\', "/"))
                        .unwrap_or_default();
                    let name = name.trim_start_matches("./").to_string();
                    let size = e.size();
                    if size <= CACHE_ENTRY_BYTES && is_data_file(&name) {
                        let mut buf = Vec::with_capacity(size as usize);
                        match e.read_to_end(&mut buf) {
                            Ok(_) => {
                                cached.insert(i, Arc::from(buf));
                            }
                            Err(err) if err.to_string() == CAP_MESSAGE => {
                                return Err(SourceError::TooLarge {
                                    path: path.to_path_buf(),
                                    entry: name,
                                    max: max_inflated,
                                });
                            }
                            Err(err) => {
                                // Listed without a cache: reading it streams what is there and
                                // lets the importer report where it broke.
                                damage = Some(format!("in entry {name}: {err}"));
                                entries.push(Entry {
                                    name,
                                    size,
                                    index: i,
                                });
                                break;
                            }
                        }
                    }
                    entries.push(Entry {
                        name,
                        size,
                        index: i,
                    });
                }
                Err(e) => {
                    if e.to_string() == CAP_MESSAGE {
                        return Err(SourceError::TooLarge {
                            path: path.to_path_buf(),
                            entry: "(listing)".into(),
                            max: max_inflated,
                        });
                    }
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
                message: format!("tar.gz: {d}"),
            });
        }
        // Listing inflated everything once; reading counts again from zero.
        inflated.store(0, Ordering::Relaxed);
        Ok(Archive {
            path: path.to_path_buf(),
            kind: ContainerKind::TarGz,
            entries,
            inflated,
            max_inflated,
            damage,
            cached,
        })
    }

    /// For a damaged tar.gz: where listing stopped. Importers report it as a warning.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// The path given by the user.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Zip or folder.
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
    /// threads at once (each call opens its own handle).
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
            if e.kind() == io::ErrorKind::Other && e.to_string() == CAP_MESSAGE {
                self.too_large(entry)
            } else {
                SourceError::Entry {
                    path: self.path.clone(),
                    entry: entry.name.clone(),
                    message: e.to_string(),
                }
            }
        };
        match self.kind {
            ContainerKind::File => {
                let file = File::open(&self.path).map_err(io_err)?;
                let mut r = Capped {
                    inner: BufReader::with_capacity(256 * 1024, file),
                    counter: &self.inflated,
                    max: self.max_inflated,
                };
                f(&mut r).map_err(io_err)
            }
            ContainerKind::TarGz => {
                if let Some(bytes) = self.cached.get(&entry.index) {
                    let mut r = Capped {
                        inner: io::Cursor::new(&bytes[..]),
                        counter: &self.inflated,
                        max: self.max_inflated,
                    };
                    return f(&mut r).map_err(io_err);
                }
                let file = File::open(&self.path).map_err(io_err)?;
                let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(
                    BufReader::with_capacity(256 * 1024, file),
                ));
                for (i, item) in tar.entries().map_err(io_err)?.enumerate() {
                    let item = item.map_err(io_err)?;
                    if i == entry.index {
                        let mut r = Capped {
                            inner: BufReader::with_capacity(256 * 1024, item),
                            counter: &self.inflated,
                            max: self.max_inflated,
                        };
                        return f(&mut r).map_err(io_err);
                    }
                }
                Err(io_err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "entry not found on the second pass (the archive changed?)",
                )))
            }
            ContainerKind::Folder => {
                let file = File::open(self.path.join(&entry.name)).map_err(io_err)?;
                let mut r = Capped {
                    inner: BufReader::with_capacity(256 * 1024, file),
                    counter: &self.inflated,
                    max: self.max_inflated,
                };
                f(&mut r).map_err(io_err)
            }
            ContainerKind::Zip => {
                let file = File::open(&self.path).map_err(io_err)?;
                let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| {
                    SourceError::BadZip {
                        path: self.path.clone(),
                        message: e.to_string(),
                    }
                })?;
                let zf = zip.by_index(entry.index).map_err(|e| SourceError::Entry {
                    path: self.path.clone(),
                    entry: entry.name.clone(),
                    message: e.to_string(),
                })?;
                let mut r = Capped {
                    inner: BufReader::with_capacity(256 * 1024, zf),
                    counter: &self.inflated,
                    max: self.max_inflated,
                };
                f(&mut r).map_err(io_err)
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

const CAP_MESSAGE: &str = "rapport: inflated-bytes cap reached";

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

/// A CAR v1 file starts with a varint header length and a DAG-CBOR map holding `roots` and
/// `version`.
fn looks_like_car(magic: &[u8]) -> bool {
    magic.len() >= 10
        && magic[0] < 0x80
        && (magic[1] & 0xe0) == 0xa0
        && (magic.windows(5).any(|w| w == b"roots") || magic.windows(7).any(|w| w == b"version"))
}

fn describe_magic(magic: &[u8]) -> String {
    if magic.starts_with(&[0x1f, 0x8b]) {
        "it is gzip-compressed but not a tar archive".into()
    } else if magic
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "it looks like a text file, not a zip; pass the whole export (.zip or extracted folder)"
            .into()
    } else {
        "it does not start with a zip signature".into()
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
            });
        }
    }
    Ok(())
}
