//! Local data of fetched accounts: the on-disk layout, atomic writes, paging state, and the
//! normalized activity table (Parquet via Polars, the only Polars code outside `analysis`).
//! Must not do HTTP, OAuth or charts; it stores what `fetch::*` hands it, verbatim.
//!
//! Layout under the data dir (`--data-dir`, else the user's data dir, e.g.
//! `~/.local/share/rapport`):
//!
//! ```text
//! accounts/<platform>/<account>/state.json            owner, paging cursors, freshness
//! accounts/<platform>/<account>/raw/<endpoint>/<n>.json one API page per file, verbatim
//! accounts/<platform>/<account>/activities.parquet    normalized activities (rebuilt from raw/)
//! ```
//!
//! Crash safety: every file is written to a temporary file in the same folder, synced and
//! renamed over the target, so a reader sees the old or the new file, never half of one. A page
//! is stored *before* the state naming the cursor after it; a fetch killed between the two
//! fetches that page again and overwrites the same file (the page number comes from the state),
//! so nothing is lost and nothing is duplicated. The activity table is a pure function of the
//! raw pages, which is what makes a killed-and-resumed fetch equal an uninterrupted one.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::model::{
    Activity, Confidence, Direction, Exclusion, Hints, Interner, Kind, Mode, Platform,
};

/// The store of every fetched account.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Paging state of one endpoint of one account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointState {
    /// Pages stored so far (the next page's file number).
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// Where the next request starts; its shape belongs to the fetcher of the platform.
    pub cursor: serde_json::Value,
}

/// What the store knows about one account (`state.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    /// Platform name (`mastodon`, `bluesky`, `linkedin`).
    pub platform: String,
    /// The account name as the user writes it (`@me@host`, `alice.bsky.social`, `me`).
    pub account: String,
    /// The owner's stable id (Mastodon actor URI, Bluesky DID), when known.
    pub owner: Option<String>,
    /// Server the data came from.
    pub server: Option<String>,
    /// Platform details the fetcher needs again (e.g. the Mastodon account id).
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
    /// When the last complete fetch ended (RFC 3339, UTC).
    pub last_fetch: Option<String>,
    /// Paging state per endpoint.
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointState>,
}

/// One stored account, as listed by `rapport accounts`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSummary {
    /// `platform:account`, what `--account` takes.
    pub spec: String,
    /// The state file's content.
    pub state: AccountState,
    /// Rows in the activity table (0 when it is not built yet).
    pub activities: usize,
}

/// The held lock of one account (see [`AccountStore::lock`]).
#[derive(Debug)]
pub struct AccountLock {
    _file: std::fs::File,
}

/// The folder of one account.
#[derive(Debug, Clone)]
pub struct AccountStore {
    dir: PathBuf,
    platform: Platform,
    account: String,
}

impl Store {
    /// Opens the store at `data_dir`, or at the user's data dir when `None`.
    pub fn open(data_dir: Option<&Path>) -> Result<Store, StoreError> {
        let root = match data_dir {
            Some(d) => d.to_path_buf(),
            None => directories::ProjectDirs::from("", "", "rapport")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| StoreError::Io {
                    path: PathBuf::from("~"),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no home directory: pass --data-dir",
                    ),
                })?,
        };
        Ok(Store { root })
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of `account` on `platform` (created when first written).
    pub fn account(&self, platform: Platform, account: &str) -> AccountStore {
        AccountStore {
            dir: self
                .root
                .join("accounts")
                .join(platform.as_str())
                .join(safe_name(account)),
            platform,
            account: account.to_string(),
        }
    }

    /// Every stored account, sorted by platform then name.
    pub fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        let mut out = Vec::new();
        for platform in Platform::ALL {
            let dir = self.root.join("accounts").join(platform.as_str());
            let Ok(read) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut names: Vec<PathBuf> = read
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("state.json").is_file())
                .collect();
            names.sort();
            for path in names {
                let state = read_state(&path.join("state.json"))?;
                let acct = AccountStore {
                    dir: path,
                    platform,
                    account: state.account.clone(),
                };
                let activities = acct.read_activities().map(|v| v.len()).unwrap_or(0);
                out.push(AccountSummary {
                    spec: format!("{}:{}", platform.as_str(), state.account),
                    state,
                    activities,
                });
            }
        }
        Ok(out)
    }

    /// Finds a stored account from `platform:account` (`mastodon:@me@host`); the account part
    /// may be left out when the platform has exactly one.
    pub fn find(&self, spec: &str) -> Result<AccountStore, StoreError> {
        let (platform, name) = spec.split_once(':').unwrap_or((spec, ""));
        let all = self.accounts()?;
        let listed = || {
            if all.is_empty() {
                "nothing is stored yet: run `rapport fetch PLATFORM` first".to_string()
            } else {
                format!(
                    "stored: {}",
                    all.iter()
                        .map(|a| a.spec.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        let matches: Vec<&AccountSummary> = all
            .iter()
            .filter(|a| a.state.platform.eq_ignore_ascii_case(platform))
            .filter(|a| {
                name.is_empty()
                    || a.state.account.eq_ignore_ascii_case(name)
                    || a.state
                        .account
                        .trim_start_matches('@')
                        .eq_ignore_ascii_case(name.trim_start_matches('@'))
                    || a.state.owner.as_deref() == Some(name)
            })
            .collect();
        match matches.as_slice() {
            [one] => {
                let p = Platform::from_name(&one.state.platform).ok_or_else(|| {
                    StoreError::Corrupt {
                        path: self.root.join("accounts"),
                        message: format!("unknown platform {:?}", one.state.platform),
                    }
                })?;
                Ok(self.account(p, &one.state.account))
            }
            [] => Err(StoreError::UnknownAccount {
                account: spec.to_string(),
                hint: listed(),
            }),
            _ => Err(StoreError::UnknownAccount {
                account: spec.to_string(),
                hint: format!("more than one matches; name one of them. {}", listed()),
            }),
        }
    }
}

/// A file-system-safe folder name for an account (`@me@host` → `me@host`).
fn safe_name(account: &str) -> String {
    let s: String = account
        .trim_start_matches('@')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and its parents) readable by the owner only (mode 0700 on Unix), and
/// narrows an existing one to that.
pub fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err(dir))?;
    }
    Ok(())
}

/// A temporary file name next to `name` no other writer uses: process id, a counter, time.
fn temp_name(dir: &Path, name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!(".{name}.tmp-{}-{n}-{nanos}", std::process::id()))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (created new, so
/// nothing else's file is ever written through), synced, renamed. `private` makes the file
/// readable by the owner only (mode 0600 on Unix) from its creation, and its folder 0700.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if private {
        create_private_dir(dir)?;
    } else {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = temp_name(dir, &name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

fn read_state(path: &Path) -> Result<AccountState, StoreError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl AccountStore {
    /// The account's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The platform.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The account name.
    pub fn account(&self) -> &str {
        &self.account
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    fn raw_dir(&self, endpoint: &str) -> PathBuf {
        self.dir.join("raw").join(safe_name(endpoint))
    }

    /// Takes the account's lock for one fetch: a second `rapport fetch` of the same account
    /// gets [`StoreError::Busy`] at once instead of interleaving its pages with the first's.
    /// The lock is released when the returned guard is dropped (or the process ends).
    pub fn lock(&self) -> Result<AccountLock, StoreError> {
        create_private_dir(&self.dir)?;
        let path = self.dir.join(".lock");
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(AccountLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Busy {
                account: format!("{}:{}", self.platform.as_str(), self.account),
                path,
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
        }
    }

    /// The stored state, or a fresh one when the account was never fetched.
    pub fn load_state(&self) -> Result<AccountState, StoreError> {
        let path = self.state_path();
        if !path.exists() {
            return Ok(AccountState {
                platform: self.platform.as_str().to_string(),
                account: self.account.clone(),
                ..AccountState::default()
            });
        }
        read_state(&path)
    }

    /// Saves the state atomically.
    pub fn save_state(&self, state: &AccountState) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| StoreError::Corrupt {
            path: self.state_path(),
            message: e.to_string(),
        })?;
        write_atomic(&self.state_path(), &bytes, true)
    }

    /// Stores one API page verbatim, *then* records `cursor` as where `endpoint` continues.
    /// Empty pages are not stored (their cursor is still saved).
    pub fn store_page(
        &self,
        state: &mut AccountState,
        endpoint: &str,
        body: &[u8],
        items: u64,
        cursor: serde_json::Value,
    ) -> Result<(), StoreError> {
        let entry = state.endpoints.entry(endpoint.to_string()).or_default();
        if items > 0 {
            let path = self
                .raw_dir(endpoint)
                .join(format!("{:08}.json", entry.pages));
            // Raw pages can hold direct messages: readable by the user only.
            write_atomic(&path, body, true)?;
            entry.pages += 1;
            entry.items += items;
        }
        entry.cursor = cursor;
        self.save_state(state)
    }

    /// Updates the cursor of `endpoint` without a page (e.g. a phase change).
    pub fn set_cursor(
        &self,
        state: &mut AccountState,
        endpoint: &str,
        cursor: serde_json::Value,
    ) -> Result<(), StoreError> {
        state
            .endpoints
            .entry(endpoint.to_string())
            .or_default()
            .cursor = cursor;
        self.save_state(state)
    }

    /// The stored pages of `endpoint`, in the order they were fetched. Pages beyond the count
    /// in `state` (written by a fetch killed before it saved its cursor) are left out: the
    /// next fetch stores them again.
    pub fn pages(&self, state: &AccountState, endpoint: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let count = state.endpoints.get(endpoint).map_or(0, |e| e.pages);
        let dir = self.raw_dir(endpoint);
        let mut out = Vec::with_capacity(count as usize);
        for n in 0..count {
            let path = dir.join(format!("{n:08}.json"));
            out.push(std::fs::read(&path).map_err(io_err(&path))?);
        }
        Ok(out)
    }

    /// The stored pages of `endpoint` parsed as JSON, in page order; a page that is not JSON is
    /// left out (the raw bytes stay in the store).
    pub fn json_pages(
        &self,
        state: &AccountState,
        endpoint: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        Ok(self
            .pages(state, endpoint)?
            .iter()
            .filter_map(|p| serde_json::from_slice(p).ok())
            .collect())
    }

    fn table_path(&self) -> PathBuf {
        self.dir.join("activities.parquet")
    }

    /// Replaces the activity table.
    pub fn write_activities(&self, activities: &[Activity]) -> Result<(), StoreError> {
        let path = self.table_path();
        let bytes = activities_to_parquet(activities).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&path, &bytes, true)
    }

    /// Reads the activity table (empty when none was built yet).
    pub fn read_activities(&self) -> Result<Vec<Activity>, StoreError> {
        let path = self.table_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        activities_from_parquet(&bytes, &path.display().to_string()).map_err(|e| {
            StoreError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            }
        })
    }
}

/// Builds the activity table: one row per activity, hints included so classification can be
/// recomputed, `mode` as classified when it was written.
pub fn activities_frame(activities: &[Activity]) -> PolarsResult<DataFrame> {
    let n = activities.len();
    let s = |f: &dyn Fn(&Activity) -> Option<String>| -> Vec<Option<String>> {
        activities.iter().map(f).collect()
    };
    let counterparts: Vec<Series> = activities
        .iter()
        .map(|a| {
            let v: Vec<&str> = a.counterparts.iter().map(|c| &**c).collect();
            Series::new("".into(), v)
        })
        .collect();
    let counterparts = if n == 0 {
        Series::new_empty(
            "counterparts".into(),
            &DataType::List(Box::new(DataType::String)),
        )
    } else {
        Series::new("counterparts".into(), counterparts)
            .cast(&DataType::List(Box::new(DataType::String)))?
    };
    let at: Vec<Option<i64>> = activities.iter().map(|a| a.at()).collect();
    let at =
        Series::new("at".into(), at).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?;
    DataFrame::new(
        n,
        vec![
            Column::new("platform".into(), s(&|a| Some(a.platform.as_str().into()))),
            Column::new("id".into(), s(&|a| Some(a.id.to_string()))),
            at.into_column(),
            Column::new(
                "direction".into(),
                s(&|a| Some(a.direction.as_str().into())),
            ),
            Column::new("kind".into(), s(&|a| Some(a.kind.as_str().into()))),
            Column::new("mode".into(), s(&|a| a.mode.map(|m| m.as_str().into()))),
            counterparts.into_column(),
            Column::new(
                "conversation".into(),
                s(&|a| a.conversation.as_deref().map(String::from)),
            ),
            Column::new(
                "participants".into(),
                activities
                    .iter()
                    .map(|a| a.participants())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "confidence".into(),
                s(&|a| Some(a.confidence.as_str().into())),
            ),
            Column::new("source".into(), s(&|a| Some(a.source.to_string()))),
            Column::new(
                "excluded".into(),
                s(&|a| a.hints.excluded.map(|e| exclusion_name(e).into())),
            ),
            Column::new(
                "with_note".into(),
                activities
                    .iter()
                    .map(|a| a.hints.with_note)
                    .collect::<Vec<_>>(),
            ),
            Column::new("parent".into(), s(&|a| a.hints.parent().map(String::from))),
            Column::new(
                "parent_is_owner".into(),
                activities
                    .iter()
                    .map(|a| a.hints.parent_is_owner)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "parent_author".into(),
                s(&|a| a.hints.parent_author().map(String::from)),
            ),
            Column::new(
                "leading_mentions".into(),
                activities
                    .iter()
                    .map(|a| a.hints.leading_mentions.map(u32::from))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "seq".into(),
                activities.iter().map(|a| a.hints.seq).collect::<Vec<_>>(),
            ),
            Column::new(
                "addressed".into(),
                activities
                    .iter()
                    .map(|a| a.hints.addressed)
                    .collect::<Vec<_>>(),
            ),
        ],
    )
}

fn exclusion_name(e: Exclusion) -> &'static str {
    match e {
        Exclusion::Draft => "draft",
        Exclusion::GuideFile => "guide_file",
        Exclusion::SystemSender => "system_sender",
    }
}

/// The activity table as Parquet bytes.
pub fn activities_to_parquet(activities: &[Activity]) -> PolarsResult<Vec<u8>> {
    let mut df = activities_frame(activities)?;
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df)?;
    Ok(buf)
}

fn parse_enum<T: Copy>(all: &[T], name: &str, f: impl Fn(T) -> &'static str) -> Option<T> {
    all.iter().copied().find(|v| f(*v) == name)
}

const KINDS: [Kind; 9] = [
    Kind::Post,
    Kind::Article,
    Kind::Repost,
    Kind::Reply,
    Kind::Comment,
    Kind::Message,
    Kind::Invitation,
    Kind::Reaction,
    Kind::Vote,
];
const MODES: [Mode; 6] = [
    Mode::Broadcast,
    Mode::Amplification,
    Mode::SelfThread,
    Mode::Conversation,
    Mode::Passive,
    Mode::Excluded,
];

/// Reads a table written by [`activities_to_parquet`]. `source` names the file in errors.
pub fn activities_from_parquet(bytes: &[u8], source: &str) -> PolarsResult<Vec<Activity>> {
    let df = ParquetReader::new(std::io::Cursor::new(bytes)).finish()?;
    let bad = |what: &str| polars_err!(ComputeError: "{source}: bad {what} value");
    let strs = |name: &str| -> PolarsResult<Vec<Option<String>>> {
        Ok(df
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.map(String::from))
            .collect())
    };
    let platform = strs("platform")?;
    let id = strs("id")?;
    let at_col = df.column("at")?.cast(&DataType::Int64)?;
    let at: Vec<Option<i64>> = at_col.i64()?.iter().collect();
    let direction = strs("direction")?;
    let kind = strs("kind")?;
    let mode = strs("mode")?;
    let conversation = strs("conversation")?;
    let participants: Vec<Option<u32>> = df.column("participants")?.u32()?.iter().collect();
    let confidence = strs("confidence")?;
    let src = strs("source")?;
    let excluded = strs("excluded")?;
    let with_note: Vec<Option<bool>> = df.column("with_note")?.bool()?.iter().collect();
    let parent = strs("parent")?;
    let parent_is_owner: Vec<Option<bool>> = df.column("parent_is_owner")?.bool()?.iter().collect();
    let parent_author = strs("parent_author")?;
    let leading: Vec<Option<u32>> = df.column("leading_mentions")?.u32()?.iter().collect();
    let seq: Vec<Option<u64>> = df.column("seq")?.u64()?.iter().collect();
    // Tables written before the column existed hold no addressed posts.
    let addressed: Vec<Option<bool>> = match df.column("addressed") {
        Ok(c) => c.bool()?.iter().collect(),
        Err(_) => vec![None; df.height()],
    };
    let lists = df.column("counterparts")?.list()?.clone();
    let mut out = Vec::with_capacity(df.height());
    // People, conversations and sources are shared as the import shares them.
    let mut shared = Interner::default();
    for (i, cps) in lists.series_iter().enumerate() {
        let p = platform[i]
            .as_deref()
            .and_then(Platform::from_name)
            .ok_or_else(|| bad("platform"))?;
        let d = match direction[i].as_deref() {
            Some("out") => Direction::Out,
            Some("in") => Direction::In,
            _ => return Err(bad("direction")),
        };
        let k = kind[i]
            .as_deref()
            .and_then(|k| parse_enum(&KINDS, k, Kind::as_str))
            .ok_or_else(|| bad("kind"))?;
        let mut a = Activity::new(
            p,
            id[i].clone().ok_or_else(|| bad("id"))?,
            at[i],
            d,
            k,
            shared.name(src[i].as_deref().unwrap_or("")),
        );
        a.mode = mode[i]
            .as_deref()
            .and_then(|m| parse_enum(&MODES, m, Mode::as_str));
        if let Some(list) = cps {
            a.counterparts = list
                .str()?
                .iter()
                .flatten()
                .map(|c| shared.get(c))
                .collect();
        }
        a.conversation = conversation[i].as_deref().map(|c| shared.name(c));
        a.set_participants(participants[i]);
        a.confidence = if confidence[i].as_deref() == Some("low") {
            Confidence::Low
        } else {
            Confidence::High
        };
        let hints = &mut a.hints;
        hints.excluded = excluded[i].as_deref().and_then(|e| {
            parse_enum(
                &[
                    Exclusion::Draft,
                    Exclusion::GuideFile,
                    Exclusion::SystemSender,
                ],
                e,
                exclusion_name,
            )
        });
        hints.with_note = with_note[i].unwrap_or(false);
        hints.set_parent(parent[i].clone());
        hints.parent_is_owner = parent_is_owner[i].unwrap_or(false);
        hints.set_parent_author(parent_author[i].clone());
        hints.leading_mentions = leading[i].and_then(|n| Hints::mentions(n as usize));
        hints.addressed = addressed[i].unwrap_or(false);
        hints.seq = seq[i].unwrap_or(i as u64);
        out.push(a);
    }
    Ok(out)
}

/// Writes `activities` under `dir` as Hive-style partitions
/// `platform=<p>/month=<YYYY-MM|undated>/part-0.parquet` (months in `zone`, as the metrics
/// count them), for DuckDB or Spark. Returns the files written.
pub fn export_partitioned(
    dir: &Path,
    activities: &[Activity],
    zone: crate::model::Zone,
) -> Result<Vec<PathBuf>, StoreError> {
    let mut groups: BTreeMap<(&'static str, i32), Vec<Activity>> = BTreeMap::new();
    for a in activities {
        let month = a.at().map_or(crate::model::UNDATED, |ms| zone.month_of(ms));
        groups
            .entry((a.platform.as_str(), month))
            .or_default()
            .push(a.clone());
    }
    let mut written = Vec::new();
    for ((platform, month), acts) in groups {
        let month = crate::model::month_label(month);
        let path = dir
            .join(format!("platform={platform}"))
            .join(format!("month={month}"))
            .join("part-0.parquet");
        // The platform is the partition (in the path): a column of the same name in the files
        // would clash with it in DuckDB and Spark.
        let bytes = activities_frame(&acts)
            .and_then(|df| df.drop("platform"))
            .and_then(|mut df| {
                let mut buf = Vec::new();
                ParquetWriter::new(&mut buf).finish(&mut df)?;
                Ok(buf)
            })
            .map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
        write_atomic(&path, &bytes, false)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Name, Source};
    use std::sync::Arc;

    fn sample() -> Vec<Activity> {
        let mut a = Activity::new(
            Platform::Mastodon,
            "https://h/users/me/statuses/1",
            Some(1_700_000_000_000),
            Direction::Out,
            Kind::Reply,
            Source::from("api:statuses"),
        );
        a.counterparts = vec![Arc::from("https://o/users/sam")].into();
        a.hints.set_parent(Some("p".into()));
        a.hints
            .set_parent_author(Some("https://o/users/sam".into()));
        a.hints.leading_mentions = Some(1);
        a.mode = Some(Mode::Conversation);
        let mut b = Activity::new(
            Platform::Bluesky,
            "at://did:plc:x/app.bsky.feed.like/1",
            None,
            Direction::In,
            Kind::Reaction,
            Source::from("api:likes"),
        );
        b.set_participants(Some(2));
        b.conversation = Some(Name::from("c"));
        b.hints.seq = 7;
        vec![a, b]
    }

    #[test]
    fn parquet_round_trip_keeps_every_field() {
        let v = sample();
        let bytes = activities_to_parquet(&v).map_err(|e| e.to_string());
        let back = bytes
            .and_then(|b| activities_from_parquet(&b, "t").map_err(|e| e.to_string()))
            .unwrap_or_default();
        assert_eq!(back, v);
        let empty = activities_to_parquet(&[])
            .and_then(|b| activities_from_parquet(&b, "t"))
            .map(|v| v.len())
            .map_err(|e| e.to_string());
        assert_eq!(empty, Ok(0));
    }

    #[test]
    fn cursor_counts_only_stored_pages() {
        let tmp = std::env::temp_dir().join(format!("rapport-store-{}", std::process::id()));
        let store = Store::open(Some(&tmp)).map_err(|e| e.to_string());
        let Ok(store) = store else { return };
        let acct = store.account(Platform::Mastodon, "@me@h");
        let mut st = acct.load_state().unwrap_or_default();
        assert!(
            acct.store_page(
                &mut st,
                "statuses",
                b"[1]",
                1,
                serde_json::json!({"max_id": "1"})
            )
            .is_ok()
        );
        assert!(
            acct.store_page(
                &mut st,
                "statuses",
                b"[]",
                0,
                serde_json::json!({"done": true})
            )
            .is_ok()
        );
        let again = acct.load_state().unwrap_or_default();
        assert_eq!(again.endpoints["statuses"].pages, 1);
        assert_eq!(again.endpoints["statuses"].cursor["done"], true);
        assert_eq!(
            acct.pages(&again, "statuses").map(|p| p.len()).ok(),
            Some(1)
        );
        assert!(store.find("mastodon:@me@h").is_ok());
        assert!(store.find("mastodon").is_ok());
        assert!(store.find("bluesky").is_err());
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
