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
mod reddit;
mod same_account;
mod threads;
mod x;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use wiremock::{Request, Respond, ResponseTemplate};

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
        // Every platform's app settings (RAPPORT_X_API, RAPPORT_REDDIT_CLIENT_ID, …).
        for (k, _) in std::env::vars() {
            let app = ["RAPPORT_X_", "RAPPORT_REDDIT_", "RAPPORT_THREADS_"];
            if app.iter().any(|p| k.starts_with(p)) {
                c.env_remove(k);
            }
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

/// The platform's authorize page: redirects the browser to the `redirect_uri` with `code` (the
/// given one) and the `state` it was sent.
pub struct Authorize(pub &'static str);

impl Respond for Authorize {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q = |k: &str| {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let mut to = url::Url::parse(&q("redirect_uri")).expect("redirect_uri");
        to.query_pairs_mut()
            .append_pair("code", self.0)
            .append_pair("state", &q("state"));
        ResponseTemplate::new(302).insert_header("location", to.as_str())
    }
}

/// The browser: follows the authorize redirect to rapport's loopback listener.
pub async fn browse(url: String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = http.get(&url).send().await.expect("authorize");
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("authorize redirects")
        .to_string();
    let _ = http.get(&location).send().await;
}

/// `rapport login PLATFORM` in the browser: runs the command, reads the authorize address it
/// prints on stderr, plays the browser (the authorize page redirects to rapport's loopback
/// listener) and returns the finished command's output.
pub async fn cli_browser_login(mut cmd: std::process::Command) -> std::process::Output {
    use std::io::BufRead as _;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rapport starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut sent = false;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let t = line.trim();
            if !sent && (t.starts_with("http://") || t.starts_with("https://")) {
                let _ = tx.send(t.to_string());
                sent = true;
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    });
    let url =
        tokio::task::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(20)))
            .await
            .expect("join")
            .expect("rapport printed the authorize address");
    browse(url).await;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("rapport ends");
    let stderr = reader.join().unwrap_or_default();
    std::process::Output {
        status: out.status,
        stdout: out.stdout,
        stderr: stderr.into_bytes(),
    }
}
