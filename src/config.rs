//! Layered settings: the embedded `config/default.toml` → the user's file → environment → flags.
//! Owns validation of every key; must not read exports or write reports.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;
use crate::model::{Secret, Zone};

/// The default configuration, compiled in.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Every setting (see `config/default.toml` for their meaning).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// IANA zone name or `local`.
    pub timezone: String,
    /// Largest private conversation that still counts as conversation.
    pub group_max: u32,
    /// Default output folder.
    pub out_dir: PathBuf,
    /// Zip-bomb cap.
    pub max_inflated_bytes: u64,
    /// Parser threads (0 = one per core).
    pub threads: usize,
    /// Chart settings.
    pub report: ReportConfig,
    /// Platform APIs (login, fetch).
    pub api: ApiConfig,
}

/// `[api]` settings: endpoints and client ids of the platform APIs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Where `login bluesky` creates its session.
    pub bluesky_pds: String,
    /// Mastodon authorize endpoint override (empty = the instance's).
    pub mastodon_authorize_url: String,
    /// Mastodon token endpoint override (empty = the instance's).
    pub mastodon_token_url: String,
    /// `[api.linkedin]`: the Member Data Portability API and the user's app.
    pub linkedin: OAuthApp,
    /// `[api.x]`: X API v2 and the user's app.
    pub x: OAuthApp,
    /// `[api.reddit]`: Reddit's OAuth API and the user's installed app.
    pub reddit: OAuthApp,
    /// `[api.threads]`: the Threads API and the user's Meta app.
    pub threads: OAuthApp,
    /// Most pages one endpoint may take in one fetch.
    pub max_pages: u64,
    /// Largest API response body accepted, in bytes.
    pub max_body_bytes: u64,
    /// Retry policy.
    pub retry: RetryConfig,
}

/// One platform API reached with the user's own OAuth2 app (`[api.<platform>]`); every key
/// has the environment variable `RAPPORT_<PLATFORM>_<KEY>` (`RAPPORT_X_API`, …).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthApp {
    /// API base URL.
    pub api: String,
    /// Authorize endpoint (the browser goes there).
    pub authorize_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// The user's app client id.
    pub client_id: String,
    /// The user's app client secret, where the platform needs one (never shown by `Debug`).
    pub client_secret: Secret,
    /// Scopes requested.
    pub scope: String,
    /// Port of the login's loopback redirect URI (0 = a random free port).
    pub redirect_port: u16,
    /// User-Agent sent to the API (empty = rapport's own).
    #[serde(default)]
    pub user_agent: String,
}

/// The `[api.<platform>]` tables, with their platform name (for messages and variables).
impl ApiConfig {
    /// The OAuth app tables by platform name.
    pub fn apps_mut(&mut self) -> [(&'static str, &mut OAuthApp); 4] {
        [
            ("linkedin", &mut self.linkedin),
            ("x", &mut self.x),
            ("reddit", &mut self.reddit),
            ("threads", &mut self.threads),
        ]
    }

    /// The OAuth app tables by platform name.
    pub fn apps(&self) -> [(&'static str, &OAuthApp); 4] {
        [
            ("linkedin", &self.linkedin),
            ("x", &self.x),
            ("reddit", &self.reddit),
            ("threads", &self.threads),
        ]
    }
}

/// `[api.retry]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay (ms).
    pub base_delay_ms: u64,
    /// Largest backoff delay (ms).
    pub max_delay_ms: u64,
    /// Longest accepted rate-limit wait (s).
    pub max_wait_secs: u64,
    /// Timeout of one request, body included (s).
    pub timeout_secs: u64,
    /// Time to connect (s).
    pub connect_timeout_secs: u64,
}

/// `[report]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Chart width in pixels.
    pub width: u32,
    /// Chart height in pixels.
    pub height: u32,
    /// Low-volume threshold for the ratio chart.
    pub low_volume_acts: u64,
    /// Months in the terminal summary.
    pub summary_months: usize,
}

/// A partial file (the user's), merged over the defaults key by key.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

impl Config {
    /// Loads the defaults, then `file` if given (or the user's default file if it exists).
    pub fn load(file: Option<&Path>) -> Result<Config, Error> {
        let mut table: toml::Table = DEFAULT_TOML
            .parse()
            .map_err(|e| Error::Usage(format!("built-in config is invalid: {e}")))?;
        let user = match file {
            Some(p) => Some(p.to_path_buf()),
            None => directories::ProjectDirs::from("", "", "rapport")
                .map(|d| d.config_dir().join("config.toml"))
                .filter(|p| p.is_file()),
        };
        if let Some(path) = user {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::Usage(format!("cannot read config file {}: {e}", path.display()))
            })?;
            let over: toml::Table = text.parse().map_err(|e| {
                Error::Usage(format!(
                    "config file {} is not valid TOML: {e}",
                    path.display()
                ))
            })?;
            merge(&mut table, over);
        }
        let mut cfg: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e| Error::Usage(format!("invalid configuration: {e}")))?;
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Environment overrides of the `[api]` keys (the other keys are read by clap flags).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        let api = &mut self.api;
        for (var, slot) in [
            ("RAPPORT_BLUESKY_PDS", &mut api.bluesky_pds),
            (
                "RAPPORT_MASTODON_AUTHORIZE_URL",
                &mut api.mastodon_authorize_url,
            ),
            ("RAPPORT_MASTODON_TOKEN_URL", &mut api.mastodon_token_url),
        ] {
            if let Some(v) = get(var).filter(|v| !v.trim().is_empty()) {
                *slot = v.trim().to_string();
            }
        }
        for (name, app) in api.apps_mut() {
            let var = |key: &str| format!("RAPPORT_{}_{key}", name.to_uppercase());
            for (key, slot) in [
                ("API", &mut app.api),
                ("AUTHORIZE_URL", &mut app.authorize_url),
                ("TOKEN_URL", &mut app.token_url),
                ("CLIENT_ID", &mut app.client_id),
                ("SCOPE", &mut app.scope),
                ("USER_AGENT", &mut app.user_agent),
            ] {
                if let Some(v) = get(&var(key)).filter(|v| !v.trim().is_empty()) {
                    *slot = v.trim().to_string();
                }
            }
            if let Some(v) = get(&var("CLIENT_SECRET")).filter(|v| !v.trim().is_empty()) {
                app.client_secret = Secret::new(v.trim());
            }
            let port = var("REDIRECT_PORT");
            if let Some(v) = get(&port).filter(|v| !v.trim().is_empty()) {
                app.redirect_port = v.trim().parse().map_err(|_| {
                    Error::Usage(format!("{port}={v:?} is not a port number (0-65535)"))
                })?;
            }
        }
        for (var, slot) in [
            ("RAPPORT_MAX_PAGES", &mut api.max_pages),
            ("RAPPORT_MAX_BODY_BYTES", &mut api.max_body_bytes),
        ] {
            if let Some(v) = get(var).filter(|v| !v.trim().is_empty()) {
                *slot = v
                    .trim()
                    .parse()
                    .map_err(|_| Error::Usage(format!("{var}={v:?} is not a whole number")))?;
            }
        }
        let r = &mut api.retry;
        for (var, slot) in [
            ("RAPPORT_RETRY_BASE_MS", &mut r.base_delay_ms),
            ("RAPPORT_RETRY_MAX_MS", &mut r.max_delay_ms),
            ("RAPPORT_RATE_LIMIT_MAX_WAIT_SECS", &mut r.max_wait_secs),
            ("RAPPORT_HTTP_TIMEOUT_SECS", &mut r.timeout_secs),
            ("RAPPORT_CONNECT_TIMEOUT_SECS", &mut r.connect_timeout_secs),
        ] {
            if let Some(v) = get(var).filter(|v| !v.trim().is_empty()) {
                *slot = v
                    .trim()
                    .parse()
                    .map_err(|_| Error::Usage(format!("{var}={v:?} is not a whole number")))?;
            }
        }
        if let Some(v) = get("RAPPORT_MAX_RETRIES").filter(|v| !v.trim().is_empty()) {
            r.max_retries = v.trim().parse().map_err(|_| {
                Error::Usage(format!("RAPPORT_MAX_RETRIES={v:?} is not a whole number"))
            })?;
        }
        Ok(())
    }

    /// Checks ranges and names.
    pub fn validate(&self) -> Result<(), Error> {
        if self.group_max < 2 {
            return Err(Error::Usage(format!(
                "group_max must be at least 2 (got {}); use e.g. --group-max 8",
                self.group_max
            )));
        }
        if self.report.width < 400 || self.report.height < 300 {
            return Err(Error::Usage(
                "report.width/height are too small (min 400 x 300)".into(),
            ));
        }
        parse_zone(&self.timezone)?;
        if url::Url::parse(&self.api.bluesky_pds).is_err() {
            return Err(Error::Usage(format!(
                "api.bluesky_pds = {:?} is not a URL; use e.g. https://bsky.social",
                self.api.bluesky_pds
            )));
        }
        for (name, app) in self.api.apps() {
            for (key, value) in [
                ("api", &app.api),
                ("authorize_url", &app.authorize_url),
                ("token_url", &app.token_url),
            ] {
                if url::Url::parse(value).is_err() {
                    return Err(Error::Usage(format!(
                        "api.{name}.{key} = {value:?} is not a URL (env RAPPORT_{}_{})",
                        name.to_uppercase(),
                        key.to_uppercase()
                    )));
                }
            }
        }
        if self.api.retry.timeout_secs == 0 {
            return Err(Error::Usage(
                "api.retry.timeout_secs must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Resolves a zone setting: an IANA name, `UTC`, or `local` (from $TZ, then the system).
pub fn parse_zone(name: &str) -> Result<Zone, Error> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("utc") || n == "Etc/UTC" || n == "Z" {
        return Ok(Zone::Utc);
    }
    if n.eq_ignore_ascii_case("local") {
        let system = std::env::var("TZ")
            .ok()
            .map(|t| t.trim_start_matches(':').to_string())
            .filter(|t| !t.is_empty())
            .or_else(|| iana_time_zone::get_timezone().ok());
        return Ok(match system.and_then(|s| s.parse::<chrono_tz::Tz>().ok()) {
            Some(tz) => Zone::Named(tz),
            None => Zone::Utc,
        });
    }
    n.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
        Error::Usage(format!(
            "unknown time zone {n:?}: use an IANA name such as Europe/Amsterdam, UTC, or local"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_load() {
        let c = Config::load(Some(Path::new("/nonexistent/none.toml")));
        assert!(c.is_err(), "a missing explicit file is an error");
        let table: toml::Table = DEFAULT_TOML.parse().unwrap_or_default();
        let cfg: Result<Config, _> = toml::Value::Table(table).try_into();
        let cfg = cfg.map_err(|e| e.to_string());
        assert_eq!(cfg.as_ref().map(|c| c.group_max), Ok(8));
        assert_eq!(
            cfg.as_ref().map(|c| c.timezone.clone()),
            Ok("UTC".to_string())
        );
    }

    #[test]
    fn linkedin_client_secret_is_never_shown() {
        let table: toml::Table = DEFAULT_TOML.parse().unwrap_or_default();
        let mut cfg: Config = toml::Value::Table(table).try_into().expect("defaults");
        cfg.apply_env(|k| (k == "RAPPORT_LINKEDIN_CLIENT_SECRET").then(|| "s3cr3t-app".into()))
            .expect("env");
        assert_eq!(cfg.api.linkedin.client_secret.expose(), "s3cr3t-app");
        assert!(!format!("{cfg:?}").contains("s3cr3t-app"));
    }

    #[test]
    fn every_oauth_app_key_has_its_environment_variable() {
        let table: toml::Table = DEFAULT_TOML.parse().unwrap_or_default();
        let mut cfg: Config = toml::Value::Table(table).try_into().expect("defaults");
        cfg.apply_env(|k| match k {
            "RAPPORT_X_API" => Some("http://127.0.0.1:9/x".into()),
            "RAPPORT_REDDIT_TOKEN_URL" => Some("http://127.0.0.1:9/token".into()),
            "RAPPORT_THREADS_REDIRECT_PORT" => Some("8981".into()),
            "RAPPORT_THREADS_CLIENT_SECRET" => Some("meta-secret".into()),
            _ => None,
        })
        .expect("env");
        assert_eq!(cfg.api.x.api, "http://127.0.0.1:9/x");
        assert_eq!(cfg.api.reddit.token_url, "http://127.0.0.1:9/token");
        assert_eq!(cfg.api.threads.redirect_port, 8981);
        assert_eq!(cfg.api.threads.client_secret.expose(), "meta-secret");
        assert!(cfg.validate().is_ok());
        assert!(
            cfg.apply_env(|k| (k == "RAPPORT_X_REDIRECT_PORT").then(|| "http".into()))
                .is_err()
        );
    }

    #[test]
    fn zones() {
        assert_eq!(parse_zone("UTC").ok(), Some(Zone::Utc));
        assert_eq!(
            parse_zone("Europe/Berlin").ok(),
            Some(Zone::Named(chrono_tz::Europe::Berlin))
        );
        assert!(parse_zone("Mars/Olympus").is_err());
    }
}
