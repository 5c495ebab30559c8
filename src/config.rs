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
    /// LinkedIn REST base URL.
    pub linkedin_api: String,
    /// LinkedIn authorize endpoint.
    pub linkedin_authorize_url: String,
    /// LinkedIn token endpoint.
    pub linkedin_token_url: String,
    /// The user's LinkedIn app client id.
    pub linkedin_client_id: String,
    /// The user's LinkedIn app client secret (never shown by `Debug`).
    pub linkedin_client_secret: Secret,
    /// OAuth scope requested from LinkedIn.
    pub linkedin_scope: String,
    /// Port of the login's loopback redirect URI (0 = a random free port).
    pub linkedin_redirect_port: u16,
    /// Most pages one endpoint may take in one fetch.
    pub max_pages: u64,
    /// Largest API response body accepted, in bytes.
    pub max_body_bytes: u64,
    /// Retry policy.
    pub retry: RetryConfig,
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
            ("RAPPORT_LINKEDIN_API", &mut api.linkedin_api),
            (
                "RAPPORT_LINKEDIN_AUTHORIZE_URL",
                &mut api.linkedin_authorize_url,
            ),
            ("RAPPORT_LINKEDIN_TOKEN_URL", &mut api.linkedin_token_url),
            ("RAPPORT_LINKEDIN_CLIENT_ID", &mut api.linkedin_client_id),
            ("RAPPORT_LINKEDIN_SCOPE", &mut api.linkedin_scope),
        ] {
            if let Some(v) = get(var).filter(|v| !v.trim().is_empty()) {
                *slot = v.trim().to_string();
            }
        }
        if let Some(v) = get("RAPPORT_LINKEDIN_CLIENT_SECRET").filter(|v| !v.trim().is_empty()) {
            api.linkedin_client_secret = Secret::new(v.trim());
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
        if let Some(v) = get("RAPPORT_LINKEDIN_REDIRECT_PORT").filter(|v| !v.trim().is_empty()) {
            api.linkedin_redirect_port = v.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "RAPPORT_LINKEDIN_REDIRECT_PORT={v:?} is not a port number (0-65535)"
                ))
            })?;
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
        for (key, value) in [
            ("api.bluesky_pds", &self.api.bluesky_pds),
            ("api.linkedin_api", &self.api.linkedin_api),
        ] {
            if url::Url::parse(value).is_err() {
                return Err(Error::Usage(format!(
                    "{key} = {value:?} is not a URL; use e.g. https://bsky.social"
                )));
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
        assert_eq!(cfg.api.linkedin_client_secret.expose(), "s3cr3t-app");
        assert!(!format!("{cfg:?}").contains("s3cr3t-app"));
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
