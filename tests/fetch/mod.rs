//! Integration tests of login, fetch, the store and `--account`: wiremock servers shaped like
//! the platform docs (paging, increments, faults, kill-and-resume), plus real local servers
//! (Bluesky PDS, strict OAuth2) when scripts/test-servers.sh started them. Must not reach the
//! internet; server-backed tests skip with a message when their env var is absent, and fail
//! instead when RAPPORT_REQUIRE_SERVERS=1 (CI).

mod bluesky;
mod faults;
mod hostile;
mod linkedin;
mod mastodon;
mod mastodon_mock;
mod oauth;
mod same_account;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Temp config + data dirs, so tokens and the store never touch the real home.
pub struct Env {
    pub home: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn config_home(&self) -> PathBuf {
        self.home.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// `rapport` with this environment, fast retries and no browser.
    pub fn rapport(&self) -> Command {
        Command::from_std(self.command())
    }

    /// The same as a plain process command (to run several at once).
    pub fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"));
        for v in [
            "RAPPORT_TZ",
            "RAPPORT_CONFIG",
            "RAPPORT_GROUP_MAX",
            "RAPPORT_OUT",
            "RAPPORT_BLUESKY_PDS",
            "RAPPORT_BLUESKY_APP_PASSWORD",
            "RAPPORT_MASTODON_TOKEN",
            "RAPPORT_DATA_DIR",
            "RAPPORT_ME",
            "RAPPORT_LINKEDIN_API",
            "RAPPORT_LINKEDIN_TOKEN",
            "RAPPORT_LINKEDIN_CLIENT_ID",
            "RAPPORT_LINKEDIN_CLIENT_SECRET",
            "RAPPORT_LINKEDIN_AUTHORIZE_URL",
            "RAPPORT_LINKEDIN_TOKEN_URL",
            "RAPPORT_LINKEDIN_SCOPE",
        ] {
            c.env_remove(v);
        }
        c.env("XDG_CONFIG_HOME", self.config_home())
            .env("HOME", self.home.path())
            .env("RAPPORT_DATA_DIR", self.data_dir())
            .env("RAPPORT_NO_BROWSER", "1")
            .env("RAPPORT_RETRY_BASE_MS", "10")
            .env("RAPPORT_RETRY_MAX_MS", "50")
            .env("RAPPORT_MAX_RETRIES", "3")
            .env("RAPPORT_HTTP_TIMEOUT_SECS", "2");
        c
    }

    /// Every file under the config home, for leak checks.
    pub fn token_files(&self) -> Vec<PathBuf> {
        files_under(&self.config_home())
    }
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in read.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The URL of a server started by scripts/test-servers.sh, or `None` with a visible skip
/// message (a panic when RAPPORT_REQUIRE_SERVERS=1).
pub fn server(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().trim_end_matches('/').to_string()),
        _ => {
            if std::env::var("RAPPORT_REQUIRE_SERVERS").as_deref() == Ok("1") {
                panic!(
                    "{test}: {var} is not set but RAPPORT_REQUIRE_SERVERS=1 (start scripts/test-servers.sh)"
                );
            }
            // Straight to stderr: the harness captures eprintln! of passing tests.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {var} is not set (scripts/test-servers.sh starts the server)"
            );
            None
        }
    }
}
