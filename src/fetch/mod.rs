//! API clients behind one [`Fetcher`] trait and one [`FETCHERS`] table (like the importers'
//! `IMPORTERS`): the shared HTTP client (retries with backoff and jitter, rate limits, capped
//! bodies, timeouts, the 401 message), page-loop guards and the progress bar. One file per
//! platform logs in, pages through its API, stores raw pages in `store` and maps items with the
//! rules of its export importer (`sources::<platform>`). Must not parse exports, use Polars or
//! draw, and must not print (lib.rs does).
//!
//! Retried: HTTP 429 and 5xx, timeouts, refused/reset connections, bodies cut short and 2xx
//! bodies that are not JSON (a truncated body behind a proxy looks like that) — never a POST
//! that is not idempotent (a session or an app registration is made once). Waits come from
//! `Retry-After`, else the rate-limit reset headers (`X-RateLimit-*` on Mastodon, `RateLimit-*`
//! on Bluesky), else exponential backoff with jitter; a wait longer than
//! `api.retry.max_wait_secs` (an absurd or infinite one included) stops the fetch with a
//! message instead. A bucket reported empty (`…-Remaining: 0`) pauses the next request until
//! its reset.

pub mod auth;
pub mod bluesky;
pub mod linkedin;
pub mod mastodon;
pub mod pages;
pub mod reddit;
pub mod threads;
pub mod x;

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use crate::config::{ApiConfig, RetryConfig};
use crate::error::{Error, FetchError};
use crate::model::{Platform, Secret};
use crate::store::AccountStore;
pub use auth::Credentials;

/// A boxed future of a fetcher (the trait is used as `dyn Fetcher` from the table).
pub type FetchFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, FetchError>> + 'a>>;

/// What every fetcher gets: the HTTP client and the `[api]` settings (addresses, app ids).
pub struct Context<'a> {
    /// The shared client.
    pub http: &'a Http,
    /// `[api]` from the configuration (with its environment overrides).
    pub api: &'a ApiConfig,
}

/// The flags of `rapport login PLATFORM`; each platform uses the ones it needs and says which
/// one is missing.
pub struct LoginArgs<'a> {
    /// `--instance` (Mastodon).
    pub instance: Option<String>,
    /// `--handle` (Bluesky).
    pub handle: Option<String>,
    /// `--app-password` (Bluesky).
    pub app_password: Option<Secret>,
    /// `--token` (or `RAPPORT_<PLATFORM>_TOKEN`): a token obtained elsewhere instead of the
    /// browser login.
    pub token: Option<Secret>,
    /// `--account`: the name of the login in the store.
    pub account: Option<String>,
    /// Shows the authorization address to the user (and tries a browser).
    pub open: &'a dyn Fn(&str),
}

/// Settings of one `rapport fetch`.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// `--since`: on the first fetch, stop going back at this time (ms since the epoch).
    pub since: Option<i64>,
    /// `--me`: who the owner is, where the platform cannot tell.
    pub me: Option<String>,
    /// Most pages one endpoint may take in one fetch (`api.max_pages`).
    pub max_pages: u64,
}

/// One platform API.
pub trait Fetcher: Sync {
    /// The platform.
    fn platform(&self) -> Platform;

    /// Logs in (in the browser, or checks a token given with `--token`) and returns the login
    /// to store. Never prints a token.
    fn login<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        args: &'a LoginArgs<'a>,
    ) -> FetchFuture<'a, Credentials>;

    /// Fetches what is new into `account` (raw pages verbatim, then the activity table rebuilt
    /// from them) and returns notes for the user. `creds` may be refreshed and saved.
    fn fetch<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        creds: &'a Credentials,
        account: &'a AccountStore,
        options: &'a FetchOptions,
        progress: &'a Progress,
    ) -> FetchFuture<'a, Vec<String>>;
}

/// Every platform with an API client. Adding an API = one module + one row here.
pub static FETCHERS: &[&dyn Fetcher] = &[
    &mastodon::MastodonApi,
    &bluesky::BlueskyApi,
    &linkedin::LinkedInApi,
    &x::XApi,
    &reddit::RedditApi,
    &threads::ThreadsApi,
];

/// The fetcher of `platform`, or a usage error naming the platforms that have one.
pub fn fetcher(platform: Platform) -> Result<&'static dyn Fetcher, Error> {
    FETCHERS
        .iter()
        .copied()
        .find(|f| f.platform() == platform)
        .ok_or_else(|| {
            Error::Usage(format!(
                "rapport has no API client for {platform}; it has one for {} (read {platform} from its export with `rapport analyze --export`)",
                FETCHERS
                    .iter()
                    .map(|f| f.platform().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// One HTTP answer, body read in full (up to the cap).
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
    let s = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let s = s.trim();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The retry policy and limits, from `[api]` and `[api.retry]`.
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
    /// Total time of one request, body included.
    pub timeout: Duration,
    /// Time to connect.
    pub connect_timeout: Duration,
    /// Largest response body accepted.
    pub max_body: u64,
}

impl From<&ApiConfig> for RetryPolicy {
    fn from(api: &ApiConfig) -> Self {
        let c: &RetryConfig = &api.retry;
        let timeout = Duration::from_secs(c.timeout_secs.max(1));
        RetryPolicy {
            max_retries: c.max_retries,
            base: Duration::from_millis(c.base_delay_ms),
            max_delay: Duration::from_millis(c.max_delay_ms.max(c.base_delay_ms)),
            max_wait: Duration::from_secs(c.max_wait_secs),
            timeout,
            connect_timeout: Duration::from_secs(c.connect_timeout_secs.max(1)).min(timeout),
            max_body: api.max_body_bytes.max(1024),
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

/// Whether a failed request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// GETs and other idempotent requests.
    Yes,
    /// A POST that creates something (a session, an app): sent once.
    Never,
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
    /// A client with rustls, connect and total timeouts, no redirects followed (a redirect
    /// would carry the token elsewhere).
    pub fn new(policy: RetryPolicy) -> Result<Http, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("rapport/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.timeout)
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

    /// The underlying client (for the OAuth token exchange; it has the same timeouts).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The policy (timeouts, body cap).
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
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
        self.send_with(Retry::Yes, build).await
    }

    /// [`Http::send`] for a request that must not be repeated: one attempt, its answer or
    /// error as it is.
    pub async fn send_once(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, FetchError> {
        self.send_with(Retry::Never, build).await
    }

    async fn send_with(
        &self,
        retry: Retry,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, FetchError> {
        let mut attempt: u32 = 0;
        loop {
            self.wait_for_pause().await?;
            let request = build(&self.client)
                .build()
                .map_err(|e| FetchError::Network {
                    url: String::new(),
                    message: format!("bad request: {e}"),
                    attempts: attempt + 1,
                })?;
            let url = request.url().to_string();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = match self.client.execute(request).await {
                Err(e) => Attempt::Retry(describe_reqwest(&e), Wait::Backoff),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    self.note_rate_limit(&headers);
                    match read_body(resp, self.policy.max_body).await {
                        Err(BodyError::TooLarge) => {
                            return Err(FetchError::Protocol {
                                url,
                                message: format!(
                                    "the answer is larger than {} bytes (api.max_body_bytes); not read",
                                    self.policy.max_body
                                ),
                            });
                        }
                        Err(BodyError::Cut(e)) => Attempt::Retry(
                            format!(
                                "the connection dropped while reading: {}",
                                describe_reqwest(&e)
                            ),
                            Wait::Backoff,
                        ),
                        Ok(body) => classify_answer(status, headers, body, url.clone()),
                    }
                }
            };
            match outcome {
                Attempt::Done(r) => return Ok(*r),
                Attempt::Retry(message, server_wait) => {
                    if retry == Retry::Never || attempt >= self.policy.max_retries {
                        return Err(FetchError::Network {
                            url,
                            message,
                            attempts: attempt + 1,
                        });
                    }
                    let wait = match server_wait {
                        Wait::For(w) if w <= self.policy.max_wait => w,
                        Wait::For(_) | Wait::TooLong => {
                            return Err(FetchError::Network {
                                url,
                                message: format!(
                                    "{message}; the server asks to wait {}, more than api.retry.max_wait_secs ({} s) — run the fetch again later, it resumes where it stopped",
                                    server_wait.describe(),
                                    self.policy.max_wait.as_secs()
                                ),
                                attempts: attempt + 1,
                            });
                        }
                        Wait::Backoff => self.policy.backoff(attempt),
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
            .or_else(|| header_str(headers, "x-rate-limit-remaining"))
            .or_else(|| header_str(headers, "ratelimit-remaining"))
            .and_then(|v| v.trim().parse::<f64>().ok());
        if remaining.is_some_and(|r| r <= 0.0)
            && let Wait::For(wait) = rate_limit_reset(headers)
            && let Ok(mut g) = self.paused_until.lock()
        {
            // An unreadable or absurd reset is ignored here: the 429 that follows decides.
            *g = Instant::now().checked_add(wait);
        }
    }
}

enum BodyError {
    TooLarge,
    Cut(reqwest::Error),
}

/// Reads a body chunk by chunk, refusing one larger than `max` bytes (also when the server
/// announces it in `Content-Length`): a hostile server cannot fill memory or the store.
async fn read_body(mut resp: reqwest::Response, max: u64) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Cut)? {
        if body.len() as u64 + chunk.len() as u64 > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// How long the server asks to wait before a retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wait {
    /// Our own backoff: the server said nothing usable.
    Backoff,
    /// This long.
    For(Duration),
    /// Longer than any wait rapport accepts (`inf`, `1e20`, a date in the far future).
    TooLong,
}

impl Wait {
    fn describe(&self) -> String {
        match self {
            Wait::For(d) => format!("{} s", d.as_secs()),
            Wait::TooLong => "for ever".into(),
            Wait::Backoff => "a moment".into(),
        }
    }

    /// A number of seconds from a header: negative is 0, NaN is unusable, infinite or beyond
    /// any `Duration` is too long. Never panics.
    fn from_secs(secs: f64) -> Wait {
        if secs.is_nan() {
            return Wait::Backoff;
        }
        match Duration::try_from_secs_f64(secs.max(0.0)) {
            Ok(d) => Wait::For(d),
            Err(_) => Wait::TooLong,
        }
    }
}

enum Attempt {
    Done(Box<Response>),
    Retry(String, Wait),
}

fn classify_answer(status: u16, headers: HeaderMap, body: Vec<u8>, url: String) -> Attempt {
    if status == 429 || (500..=599).contains(&status) {
        let mut wait = retry_after(&headers);
        if wait == Wait::Backoff && status == 429 {
            wait = rate_limit_reset(&headers);
        }
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
                    Wait::Backoff,
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

/// `Retry-After`: delay seconds or an HTTP date; anything else means our own backoff.
pub fn retry_after(headers: &HeaderMap) -> Wait {
    let Some(v) = header_str(headers, "retry-after").map(str::trim) else {
        return Wait::Backoff;
    };
    if let Ok(secs) = v.parse::<f64>() {
        return Wait::from_secs(secs);
    }
    match chrono::DateTime::parse_from_rfc2822(v) {
        Ok(at) => until(at.timestamp_millis()),
        Err(_) => Wait::Backoff,
    }
}

fn until(epoch_ms: i64) -> Wait {
    let now = chrono::Utc::now().timestamp_millis();
    Wait::For(Duration::from_millis(
        epoch_ms.saturating_sub(now).max(0) as u64
    ))
}

/// When an exhausted bucket resets: Mastodon's `X-RateLimit-Reset` is an ISO 8601 time;
/// Bluesky's `RateLimit-Reset` and X's `x-rate-limit-reset` are epoch seconds (the IETF draft
/// says delta seconds: a small number is read as a delta).
pub fn rate_limit_reset(headers: &HeaderMap) -> Wait {
    let Some(v) = header_str(headers, "x-ratelimit-reset")
        .or_else(|| header_str(headers, "x-rate-limit-reset"))
        .or_else(|| header_str(headers, "ratelimit-reset"))
        .map(str::trim)
    else {
        return Wait::Backoff;
    };
    if let Ok(n) = v.parse::<f64>() {
        if !n.is_finite() {
            return Wait::from_secs(n);
        }
        if n > 1_000_000_000.0 {
            // Epoch seconds; beyond year 9999 is no real reset.
            return if n < 253_402_300_800.0 {
                until((n * 1000.0) as i64)
            } else {
                Wait::TooLong
            };
        }
        return Wait::from_secs(n);
    }
    match chrono::DateTime::parse_from_rfc3339(v) {
        Ok(at) => until(at.timestamp_millis()),
        Err(_) => Wait::Backoff,
    }
}

/// The `param` query value of the `rel` link of a `Link` header
/// (`<https://h/api/v1/…?max_id=7>; rel="next", <…?min_id=9>; rel="prev"`).
pub fn link_param(headers: &HeaderMap, rel: &str, param: &str) -> Option<String> {
    let link = header_str(headers, "link")?;
    for part in link.split(',') {
        let Some((target, params)) = part.split_once(';') else {
            continue;
        };
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

/// Guards one page loop against servers that page in circles: every cursor seen is
/// remembered, a repeat stops the loop, and so does the page cap (`api.max_pages`).
#[derive(Debug)]
pub struct PageGuard {
    endpoint: String,
    seen: std::collections::HashSet<String>,
    pages: u64,
    max: u64,
}

impl PageGuard {
    /// A guard for `endpoint` allowing `max` pages.
    pub fn new(endpoint: &str, max: u64) -> PageGuard {
        PageGuard {
            endpoint: endpoint.to_string(),
            seen: Default::default(),
            pages: 0,
            max: max.max(1),
        }
    }

    /// Ok when the page at `cursor` may be fetched; else the note saying why paging stopped.
    pub fn admit(&mut self, cursor: Option<&str>) -> Result<(), String> {
        if self.pages >= self.max {
            return Err(format!(
                "{}: stopped after {} pages (api.max_pages); run the fetch again to continue",
                self.endpoint, self.pages
            ));
        }
        if let Some(c) = cursor
            && !self.seen.insert(c.to_string())
        {
            return Err(format!(
                "{}: the server handed out the cursor {c:?} a second time; paging stopped there (nothing after it is missing from what the server would give)",
                self.endpoint
            ));
        }
        self.pages += 1;
        Ok(())
    }

    /// The note for a cursor that does not move the way paging goes (e.g. a `max_id` that is
    /// not older than the last one).
    pub fn stuck(&self, cursor: &str) -> String {
        format!(
            "{}: the server's next cursor {cursor:?} does not move back in time; paging stopped there",
            self.endpoint
        )
    }
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
pub fn block_on<F: Future>(f: F) -> Result<F::Output, FetchError> {
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

/// Joins `path` to a base URL string without doubling slashes.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// `host[:port]` of a URL, for account names (`@me@host`).
pub fn host_of(u: &url::Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
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
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static("garbage, <x>; rel=\"next\""),
        );
        assert_eq!(link_param(&h, "next", "max_id"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_wait: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            max_body: 1 << 20,
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
        assert_eq!(retry_after(&h), Wait::For(Duration::from_secs(2)));
        let mut h = HeaderMap::new();
        h.insert("ratelimit-reset", HeaderValue::from_static("3"));
        assert_eq!(rate_limit_reset(&h), Wait::For(Duration::from_secs(3)));
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("2000-01-01T00:00:00.000Z"),
        );
        assert_eq!(rate_limit_reset(&h), Wait::For(Duration::ZERO));
    }

    #[test]
    fn absurd_retry_after_values_never_panic() {
        for (value, expected) in [
            ("inf", Wait::TooLong),
            ("1e20", Wait::TooLong),
            ("-inf", Wait::For(Duration::ZERO)),
            ("NaN", Wait::Backoff),
            ("-5", Wait::For(Duration::ZERO)),
            ("soon", Wait::Backoff),
            ("0.25", Wait::For(Duration::from_millis(250))),
        ] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", HeaderValue::from_static(value));
            assert_eq!(retry_after(&h), expected, "Retry-After: {value}");
            let mut h = HeaderMap::new();
            h.insert("ratelimit-reset", HeaderValue::from_static(value));
            let _ = rate_limit_reset(&h);
        }
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1e300"));
        assert_eq!(rate_limit_reset(&h), Wait::TooLong);
    }

    #[test]
    fn page_guard_stops_on_any_repeated_cursor_and_at_the_cap() {
        let mut g = PageGuard::new("statuses", 10);
        assert!(g.admit(None).is_ok());
        assert!(g.admit(Some("30")).is_ok());
        assert!(g.admit(Some("20")).is_ok());
        // Not the last one: a cycle 30 → 20 → 30.
        assert!(g.admit(Some("30")).is_err());
        let mut g = PageGuard::new("x", 2);
        assert!(g.admit(Some("a")).is_ok());
        assert!(g.admit(Some("b")).is_ok());
        let note = g.admit(Some("c")).expect_err("cap");
        assert!(note.contains("api.max_pages"), "{note}");
    }
}
