//! API clients: the shared HTTP client (retries with backoff and jitter, rate limits, the 401
//! message), paging helpers and the progress bar; one module per platform turns API items into
//! `Activity` rows and hands raw pages to `store`. Must not parse exports, use Polars or draw.
//!
//! Retried: HTTP 429 and 5xx, timeouts, refused/reset connections, bodies cut short and 2xx
//! bodies that are not JSON (a truncated body behind a proxy looks like that). Waits come from
//! `Retry-After`, else the rate-limit reset headers (`X-RateLimit-*` on Mastodon, `RateLimit-*`
//! on Bluesky), else exponential backoff with jitter. A bucket reported empty
//! (`…-Remaining: 0`) pauses the next request until its reset.

pub mod auth;
pub mod bluesky;
pub mod linkedin;
pub mod mastodon;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use crate::config::RetryConfig;
use crate::error::FetchError;

/// What `rapport fetch` reports at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchReport {
    /// HTTP requests made (retries included).
    pub requests: u64,
    /// Pages stored.
    pub pages: u64,
    /// Items in the stored pages.
    pub items: u64,
    /// Activities in the account's table afterwards.
    pub activities: usize,
    /// Notes for the user (e.g. an endpoint the server does not offer).
    pub notes: Vec<String>,
}

/// One HTTP answer, body read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The body, verbatim.
    pub body: Vec<u8>,
    /// The body parsed, for 2xx answers.
    pub json: Option<serde_json::Value>,
    /// The request URL (never carries a token).
    pub url: String,
}

impl Response {
    /// Turns a non-2xx answer into an error; 401/403 become an auth error with `login_hint`.
    pub fn ok(self, platform: &str, login_hint: &str) -> Result<Response, FetchError> {
        match self.status {
            200..=299 => Ok(self),
            401 | 403 => Err(FetchError::Auth {
                platform: platform.to_string(),
                message: format!(
                    "{} answered HTTP {}: the stored login was rejected (revoked or expired). {login_hint}",
                    self.url, self.status
                ),
            }),
            s => Err(FetchError::Http {
                url: self.url.clone(),
                status: s,
                message: short(&self.body),
            }),
        }
    }

    /// The parsed JSON body, or a protocol error.
    pub fn json(&self) -> Result<&serde_json::Value, FetchError> {
        self.json.as_ref().ok_or_else(|| FetchError::Protocol {
            url: self.url.clone(),
            message: "no JSON body".into(),
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The first 200 characters of a body, for error messages.
pub fn short(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let s = s.trim();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The retry policy, from `[api.retry]`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay.
    pub base: Duration,
    /// Largest backoff delay.
    pub max_delay: Duration,
    /// Longest accepted server-requested wait.
    pub max_wait: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl From<&RetryConfig> for RetryPolicy {
    fn from(c: &RetryConfig) -> Self {
        RetryPolicy {
            max_retries: c.max_retries,
            base: Duration::from_millis(c.base_delay_ms),
            max_delay: Duration::from_millis(c.max_delay_ms.max(c.base_delay_ms)),
            max_wait: Duration::from_secs(c.max_wait_secs),
            timeout: Duration::from_secs(c.timeout_secs.max(1)),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `attempt` (0-based): base·2^attempt capped, "equal jitter"
    /// (half fixed, half random) so many clients do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let half = exp / 2;
        half + half.mul_f64(random_unit())
    }
}

/// A random number in [0, 1) from the std hasher's random keys (no extra dependency).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The HTTP client every fetcher uses.
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
    requests: AtomicU64,
    /// Set when a rate-limit bucket was reported empty: no request before this instant.
    paused_until: Mutex<Option<Instant>>,
}

impl Http {
    /// A client with rustls, no redirects followed (a redirect would carry the token elsewhere).
    pub fn new(policy: RetryPolicy) -> Result<Http, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("rapport/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.timeout)
            .build()
            .map_err(|e| FetchError::Network {
                url: String::new(),
                message: format!("cannot set up HTTP: {e}"),
                attempts: 0,
            })?;
        Ok(Http {
            client,
            policy,
            requests: AtomicU64::new(0),
            paused_until: Mutex::new(None),
        })
    }

    /// The underlying client (for the OAuth token exchange).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Requests made so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends the request `build` makes (called again for every attempt), retrying what can be
    /// retried. Non-2xx answers that retrying will not fix are returned as they are (see
    /// [`Response::ok`]); a 2xx body must be JSON.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, FetchError> {
        let mut attempt: u32 = 0;
        loop {
            self.wait_for_pause().await?;
            let request = build(&self.client).timeout(self.policy.timeout);
            let request = request.build().map_err(|e| FetchError::Network {
                url: String::new(),
                message: format!("bad request: {e}"),
                attempts: attempt + 1,
            })?;
            let url = request.url().to_string();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = match self.client.execute(request).await {
                Err(e) => Attempt::Retry(describe_reqwest(&e), None),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    self.note_rate_limit(&headers);
                    match resp.bytes().await {
                        Err(e) => Attempt::Retry(
                            format!(
                                "the connection dropped while reading: {}",
                                describe_reqwest(&e)
                            ),
                            None,
                        ),
                        Ok(body) => classify_answer(status, headers, body.to_vec(), url.clone()),
                    }
                }
            };
            match outcome {
                Attempt::Done(r) => return Ok(*r),
                Attempt::Retry(message, server_wait) => {
                    if attempt >= self.policy.max_retries {
                        return Err(FetchError::Network {
                            url,
                            message,
                            attempts: attempt + 1,
                        });
                    }
                    let wait = match server_wait {
                        Some(w) if w > self.policy.max_wait => {
                            return Err(FetchError::Network {
                                url,
                                message: format!(
                                    "{message}; the server asks to wait {} s, more than api.retry.max_wait_secs — run the fetch again later, it resumes where it stopped",
                                    w.as_secs()
                                ),
                                attempts: attempt + 1,
                            });
                        }
                        Some(w) => w,
                        None => self.policy.backoff(attempt),
                    };
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn wait_for_pause(&self) -> Result<(), FetchError> {
        let until = self.paused_until.lock().ok().and_then(|mut g| g.take());
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                let wait = until - now;
                if wait > self.policy.max_wait {
                    return Err(FetchError::Network {
                        url: String::new(),
                        message: format!(
                            "rate limit used up; it resets in {} s, more than api.retry.max_wait_secs — run the fetch again later, it resumes where it stopped",
                            wait.as_secs()
                        ),
                        attempts: 0,
                    });
                }
                tokio::time::sleep(wait).await;
            }
        }
        Ok(())
    }

    fn note_rate_limit(&self, headers: &HeaderMap) {
        // An explicit Retry-After is the server's own answer to "when may I retry"; the bucket
        // headers beside it can name a later reset of a bucket that is not the binding one.
        if header_str(headers, "retry-after").is_some() {
            return;
        }
        let remaining = header_str(headers, "x-ratelimit-remaining")
            .or_else(|| header_str(headers, "ratelimit-remaining"))
            .and_then(|v| v.trim().parse::<i64>().ok());
        if remaining == Some(0)
            && let Some(wait) = rate_limit_reset(headers)
            && let Ok(mut g) = self.paused_until.lock()
        {
            *g = Some(Instant::now() + wait);
        }
    }
}

enum Attempt {
    Done(Box<Response>),
    Retry(String, Option<Duration>),
}

fn classify_answer(status: u16, headers: HeaderMap, body: Vec<u8>, url: String) -> Attempt {
    if status == 429 || (500..=599).contains(&status) {
        let wait = retry_after(&headers).or_else(|| {
            if status == 429 {
                rate_limit_reset(&headers)
            } else {
                None
            }
        });
        return Attempt::Retry(format!("HTTP {status}: {}", short(&body)), wait);
    }
    let json = if (200..=299).contains(&status) {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                return Attempt::Retry(
                    format!(
                        "the answer is not complete JSON ({e}; {} bytes received)",
                        body.len()
                    ),
                    None,
                );
            }
        }
    } else {
        serde_json::from_slice(&body).ok()
    };
    Attempt::Done(Box::new(Response {
        status,
        headers,
        body,
        json,
        url,
    }))
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the body was cut short"
    } else {
        "request failed"
    };
    // The innermost cause says most (e.g. "connection reset by peer").
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    format!("{what}: {cause}")
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Retry-After`: delay seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = header_str(headers, "retry-after")?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return Some(Duration::from_secs_f64(secs.max(0.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    Some(until(at.timestamp_millis()))
}

fn until(epoch_ms: i64) -> Duration {
    let now = chrono::Utc::now().timestamp_millis();
    Duration::from_millis(epoch_ms.saturating_sub(now).max(0) as u64)
}

/// When an exhausted bucket resets: Mastodon's `X-RateLimit-Reset` is an ISO 8601 time;
/// Bluesky's `RateLimit-Reset` is epoch seconds (the IETF draft says delta seconds: a small
/// number is read as a delta).
pub fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    let v = header_str(headers, "x-ratelimit-reset")
        .or_else(|| header_str(headers, "ratelimit-reset"))?
        .trim();
    if let Ok(n) = v.parse::<f64>() {
        return Some(if n > 1_000_000_000.0 {
            until((n * 1000.0) as i64)
        } else {
            Duration::from_secs_f64(n.max(0.0))
        });
    }
    let at = chrono::DateTime::parse_from_rfc3339(v).ok()?;
    Some(until(at.timestamp_millis()))
}

/// The `param` query value of the `rel` link of a `Link` header
/// (`<https://h/api/v1/…?max_id=7>; rel="next", <…?min_id=9>; rel="prev"`).
pub fn link_param(headers: &HeaderMap, rel: &str, param: &str) -> Option<String> {
    let link = header_str(headers, "link")?;
    for part in link.split(',') {
        let (target, params) = part.split_once(';')?;
        let is_rel = params.split(';').any(|p| {
            let p = p.trim();
            p == format!("rel=\"{rel}\"") || p == format!("rel={rel}")
        });
        if !is_rel {
            continue;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        let url = url::Url::parse(target).ok()?;
        return url
            .query_pairs()
            .find(|(k, _)| k == param)
            .map(|(_, v)| v.into_owned());
    }
    None
}

/// Pages and items fetched, on stderr (hidden with `--quiet` or when stderr is not a terminal).
#[derive(Debug)]
pub struct Progress {
    bar: indicatif::ProgressBar,
    pages: AtomicU64,
    items: AtomicU64,
}

impl Progress {
    /// A spinner titled `title`.
    pub fn new(title: &str, quiet: bool) -> Progress {
        let bar = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new_spinner()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_prefix(title.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar,
            pages: AtomicU64::new(0),
            items: AtomicU64::new(0),
        }
    }

    /// One page of `items` stored from `endpoint`.
    pub fn page(&self, endpoint: &str, items: u64) {
        let p = self.pages.fetch_add(1, Ordering::Relaxed) + 1;
        let i = self.items.fetch_add(items, Ordering::Relaxed) + items;
        self.bar
            .set_message(format!("{p} pages, {i} items (last: {endpoint})"));
    }

    /// Pages so far.
    pub fn pages(&self) -> u64 {
        self.pages.load(Ordering::Relaxed)
    }

    /// Items so far.
    pub fn items(&self) -> u64 {
        self.items.load(Ordering::Relaxed)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Runs a future on a fresh tokio runtime (the CLI is synchronous elsewhere).
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, FetchError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| FetchError::Network {
            url: String::new(),
            message: format!("cannot start the async runtime: {e}"),
            attempts: 0,
        })?;
    Ok(rt.block_on(f))
}

/// Numeric ids (Mastodon snowflakes) compare as numbers, others as text.
pub fn id_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
    }
}

/// RFC 3339 → milliseconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn link_header_params() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "<https://h/api/v1/accounts/1/statuses?limit=2&max_id=7>; rel=\"next\", <https://h/api/v1/accounts/1/statuses?limit=2&min_id=9>; rel=\"prev\"",
            ),
        );
        assert_eq!(link_param(&h, "next", "max_id").as_deref(), Some("7"));
        assert_eq!(link_param(&h, "prev", "min_id").as_deref(), Some("9"));
        assert_eq!(link_param(&h, "next", "min_id"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_wait: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
        };
        let d0 = p.backoff(0);
        assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
        let d9 = p.backoff(9);
        assert!(d9 >= Duration::from_millis(500) && d9 <= Duration::from_millis(1000));
    }

    #[test]
    fn reset_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        let mut h = HeaderMap::new();
        h.insert("ratelimit-reset", HeaderValue::from_static("3"));
        assert_eq!(rate_limit_reset(&h), Some(Duration::from_secs(3)));
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("2000-01-01T00:00:00.000Z"),
        );
        assert_eq!(rate_limit_reset(&h), Some(Duration::ZERO));
    }
}
