//! Opening an export: a zip file or an extracted folder, listed as entries and read as streams,
//! never extracted to disk. Owns the inflated-bytes cap (zip bomb guard); knows nothing of formats.

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
            });
        }
        let mut magic = [0u8; 4];
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
        })
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

fn describe_magic(magic: &[u8]) -> String {
    if magic.starts_with(&[0x1f, 0x8b]) {
        "it is gzip-compressed (a .tar.gz), which this version cannot read yet".into()
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
