//! Logins and the token cache: the [`Secret`] type, token files (0600 in the user's config
//! dir), OAuth2 authorization code + PKCE with a one-shot loopback listener (Mastodon,
//! LinkedIn), Bluesky sessions (createSession / refreshSession). Must not fetch activity, touch
//! the store of fetched data, or print a token anywhere.

use std::path::{Path, PathBuf};
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::Http;
use crate::error::{FetchError, StoreError};
use crate::model::Platform;
use crate::store::write_atomic;

/// Mastodon scopes rapport asks for: read-only, nothing more.
pub const MASTODON_SCOPES: &str = "read:accounts read:statuses read:notifications";

/// A token or password. Its `Debug` never shows the value and it has no `Display`, so it
/// cannot end up in a log line, an error message or a report by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it (an `Authorization` header, a form field).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A stored login (one file per account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// Platform name.
    pub platform: String,
    /// Account name (`@me@host`, the Bluesky handle, `me` for LinkedIn).
    pub account: String,
    /// Server the token is for (Mastodon instance, Bluesky PDS, LinkedIn API).
    pub server: String,
    /// The owner's stable id when known at login (Bluesky DID, Mastodon actor URI).
    pub owner: Option<String>,
    /// Access token (Bluesky: accessJwt).
    pub access_token: Secret,
    /// Refresh token (Bluesky: refreshJwt).
    pub refresh_token: Option<Secret>,
    /// When it was obtained (RFC 3339).
    pub obtained_at: String,
}

/// Where token files live: `<config dir>/tokens` (Linux: `~/.config/rapport/tokens`).
pub fn token_dir() -> Result<PathBuf, StoreError> {
    directories::ProjectDirs::from("", "", "rapport")
        .map(|d| d.config_dir().join("tokens"))
        .ok_or_else(|| StoreError::Io {
            path: PathBuf::from("~"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no home directory"),
        })
}

fn token_file(dir: &Path, platform: Platform, account: &str) -> PathBuf {
    let safe: String = account
        .trim_start_matches('@')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{}_{safe}.json", platform.as_str()))
}

/// Saves a login: the folder is made 0700 and the file 0600 (created so, never widened).
pub fn save(creds: &Credentials) -> Result<PathBuf, StoreError> {
    let dir = token_dir()?;
    std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
        path: dir.clone(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    }
    let platform = crate::store::platform_of(&creds.platform).unwrap_or(Platform::Mastodon);
    let path = token_file(&dir, platform, &creds.account);
    let bytes = serde_json::to_vec_pretty(creds).map_err(|e| StoreError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, &bytes, true)?;
    Ok(path)
}

/// Every stored login of `platform`.
pub fn load_all(platform: Platform) -> Result<Vec<(PathBuf, Credentials)>, StoreError> {
    let dir = token_dir()?;
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{}_", platform.as_str());
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".json"))
        })
        .collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let creds: Credentials =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
        out.push((path, creds));
    }
    Ok(out)
}

/// The stored login of `platform` (and `account`, needed when there are several).
pub fn load(platform: Platform, account: Option<&str>) -> Result<Credentials, crate::error::Error> {
    let all = load_all(platform)?;
    let wanted = |c: &Credentials| match account {
        None => true,
        Some(a) => {
            c.account
                .trim_start_matches('@')
                .eq_ignore_ascii_case(a.trim_start_matches('@'))
                || c.owner.as_deref() == Some(a)
        }
    };
    let mut matching: Vec<Credentials> = all.into_iter().map(|(_, c)| c).filter(wanted).collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(FetchError::Auth {
            platform: platform.as_str().into(),
            message: format!(
                "not logged in{}: run `rapport login {}` first",
                account.map(|a| format!(" as {a}")).unwrap_or_default(),
                platform.as_str()
            ),
        }
        .into()),
        _ => Err(crate::error::Error::Usage(format!(
            "several {} logins are stored ({}): pick one with --account",
            platform.as_str(),
            matching
                .iter()
                .map(|c| c.account.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Removes the stored logins of `platform` (only `account` when given). Returns the files removed.
pub fn logout(platform: Platform, account: Option<&str>) -> Result<Vec<PathBuf>, StoreError> {
    let mut removed = Vec::new();
    for (path, c) in load_all(platform)? {
        if account.is_none_or(|a| {
            c.account
                .trim_start_matches('@')
                .eq_ignore_ascii_case(a.trim_start_matches('@'))
        }) {
            std::fs::remove_file(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            removed.push(path);
        }
    }
    Ok(removed)
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `https://host[:port]` of an instance URL, without a trailing slash.
pub fn instance_base(instance: &str) -> Result<url::Url, crate::error::Error> {
    let with_scheme = if instance.contains("://") {
        instance.to_string()
    } else {
        format!("https://{instance}")
    };
    let mut u = url::Url::parse(&with_scheme).map_err(|e| {
        crate::error::Error::Usage(format!(
            "--instance {instance:?} is not a URL ({e}); use e.g. https://mastodon.social"
        ))
    })?;
    if u.host_str().is_none() {
        return Err(crate::error::Error::Usage(format!(
            "--instance {instance:?} has no host; use e.g. https://mastodon.social"
        )));
    }
    u.set_path("");
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// `host[:port]` of a URL, for account names (`@me@host`).
pub fn host_of(u: &url::Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// Joins `path` to a base URL string without doubling slashes.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Checks a Mastodon token with verify_credentials and returns the stored login.
pub async fn mastodon_with_token(
    http: &Http,
    instance: &url::Url,
    token: Secret,
) -> Result<Credentials, FetchError> {
    let base = instance.as_str().trim_end_matches('/').to_string();
    let url = join(&base, "/api/v1/accounts/verify_credentials");
    let resp = http
        .send(|c| c.get(&url).bearer_auth(token.expose()))
        .await?
        .ok(
            "mastodon",
            "Check the token (it needs the read:accounts scope) or log in with --instance only.",
        )?;
    let me = resp.json()?;
    let username = me
        .get("acct")
        .or_else(|| me.get("username"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| FetchError::Protocol {
            url: url.clone(),
            message: "verify_credentials has no acct".into(),
        })?;
    let username = username.split('@').next().unwrap_or(username);
    Ok(Credentials {
        platform: "mastodon".into(),
        account: format!("@{username}@{}", host_of(instance)),
        server: base,
        owner: super::mastodon::actor_of_account(me),
        access_token: token,
        refresh_token: None,
        obtained_at: now_rfc3339(),
    })
}

/// What the loopback listener received.
#[derive(Debug)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Waits for one `GET /callback?…` on `listener`, answers it with a short page and closes.
async fn one_callback(
    listener: tokio::net::TcpListener,
    timeout: Duration,
) -> Result<Callback, FetchError> {
    let fail = |m: String| FetchError::Auth {
        platform: "oauth".into(),
        message: m,
    };
    let accept = tokio::time::timeout(timeout, async {
        loop {
            let (mut sock, _) = listener.accept().await?;
            let mut buf = vec![0u8; 8192];
            let mut len = 0;
            // Read up to the end of the request head.
            while len < buf.len() {
                let n = sock.read(&mut buf[len..]).await?;
                if n == 0 {
                    break;
                }
                len += n;
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]).to_string();
            let target = head
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("")
                .to_string();
            if !target.starts_with("/callback") {
                // A favicon request or a probe: not ours, keep waiting.
                let _ = sock
                    .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                continue;
            }
            let page = "<!doctype html><title>rapport</title><p>rapport received the login. You can close this tab.</p>";
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = sock.write_all(answer.as_bytes()).await;
            let _ = sock.shutdown().await;
            return Ok::<String, std::io::Error>(target);
        }
    })
    .await
    .map_err(|_| fail(format!("no answer from the browser within {} s; run the login again", timeout.as_secs())))?
    .map_err(|e| fail(format!("the loopback listener failed: {e}")))?;
    let url = url::Url::parse(&format!("http://127.0.0.1{accept}"))
        .map_err(|e| fail(format!("bad callback: {e}")))?;
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    Ok(Callback {
        code: get("code"),
        state: get("state"),
        error: get("error").map(|e| match get("error_description") {
            Some(d) => format!("{e}: {d}"),
            None => e,
        }),
    })
}

/// Settings of one authorization code + PKCE login.
pub struct CodeFlow<'a> {
    /// Platform name, for messages.
    pub platform: &'a str,
    /// Authorize endpoint.
    pub authorize_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (confidential clients).
    pub client_secret: Option<Secret>,
    /// Scopes, space-separated.
    pub scopes: String,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// Exchange the code with a plain form POST read as JSON instead of the `oauth2` crate's
    /// typed response (LinkedIn's token answer may lack `token_type`, which that type needs).
    pub form_exchange: bool,
}

/// A bound loopback listener and its redirect URI (bind first: Mastodon apps are registered
/// with the exact redirect URI, port included).
pub struct Loopback {
    listener: tokio::net::TcpListener,
    /// `http://127.0.0.1:<port>/callback`
    pub redirect_uri: String,
}

impl Loopback {
    /// Binds 127.0.0.1 on a random free port.
    pub async fn bind() -> Result<Loopback, FetchError> {
        Loopback::bind_port(0).await
    }

    /// Binds 127.0.0.1 on `port` (0 = a random free one).
    pub async fn bind_port(port: u16) -> Result<Loopback, FetchError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| FetchError::Auth {
                platform: "oauth".into(),
                message: format!("cannot listen on 127.0.0.1:{port} for the login callback: {e}"),
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| FetchError::Auth {
                platform: "oauth".into(),
                message: format!("cannot listen on 127.0.0.1: {e}"),
            })?
            .port();
        Ok(Loopback {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        })
    }
}

/// Authorization code + PKCE (S256): builds the authorize URL with a random state, hands it to
/// `open` (print it, try a browser), waits for the one callback, checks the state and
/// exchanges the code with the verifier. Returns (access token, refresh token).
pub async fn code_flow(
    http: &Http,
    flow: CodeFlow<'_>,
    loopback: Loopback,
    open: impl FnOnce(String),
) -> Result<(Secret, Option<Secret>), FetchError> {
    let fail = |m: String| FetchError::Auth {
        platform: flow.platform.to_string(),
        message: m,
    };
    let bad_url = |what: &str, e: url::ParseError| fail(format!("bad {what} URL: {e}"));
    let redirect_uri = loopback.redirect_uri.clone();
    // Credentials in the form body: Mastodon documents it, and it names the client for servers
    // that bind codes to a client id.
    let mut client = BasicClient::new(ClientId::new(flow.client_id.clone()))
        .set_auth_type(oauth2::AuthType::RequestBody)
        .set_auth_uri(
            AuthUrl::new(flow.authorize_url.clone()).map_err(|e| bad_url("authorize", e))?,
        )
        .set_token_uri(TokenUrl::new(flow.token_url.clone()).map_err(|e| bad_url("token", e))?)
        .set_redirect_uri(
            RedirectUrl::new(loopback.redirect_uri.clone()).map_err(|e| bad_url("redirect", e))?,
        );
    if let Some(secret) = &flow.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for s in flow.scopes.split_whitespace() {
        request = request.add_scope(Scope::new(s.to_string()));
    }
    let (auth_url, state) = request.url();
    let waiting = tokio::spawn(one_callback(loopback.listener, flow.timeout));
    open(auth_url.to_string());
    let cb = waiting
        .await
        .map_err(|e| fail(format!("the login listener stopped: {e}")))??;
    if let Some(e) = cb.error {
        return Err(fail(format!("the server refused the login: {e}")));
    }
    if cb.state.as_deref() != Some(state.secret().as_str()) {
        return Err(fail(
            "the login answer carries a different state than rapport sent (a forged or stale redirect); nothing was saved — run the login again".into(),
        ));
    }
    let code = cb
        .code
        .ok_or_else(|| fail("the login answer has no code".into()))?;
    if flow.form_exchange {
        return form_exchange(http, &flow, &redirect_uri, &code, verifier.secret()).await;
    }
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(http.client())
        .await
        .map_err(|e| {
            let detail = match &e {
                oauth2::RequestTokenError::ServerResponse(r) => format!(
                    "{}{}",
                    r.error(),
                    r.error_description()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                other => other.to_string(),
            };
            fail(format!(
                "the token exchange failed ({detail}); run the login again"
            ))
        })?;
    Ok((
        Secret::new(token.access_token().secret().to_string()),
        token
            .refresh_token()
            .map(|r| Secret::new(r.secret().to_string())),
    ))
}

/// The code exchange as a plain form POST (RFC 6749 §4.1.3, PKCE verifier and client
/// credentials in the body), the answer read as JSON: only `access_token` is required, so a
/// response without `token_type` (LinkedIn) is accepted. Sent once: a code is single-use.
async fn form_exchange(
    http: &Http,
    flow: &CodeFlow<'_>,
    redirect_uri: &str,
    code: &str,
    verifier: &str,
) -> Result<(Secret, Option<Secret>), FetchError> {
    let fail = |m: String| FetchError::Auth {
        platform: flow.platform.to_string(),
        message: m,
    };
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", flow.client_id.as_str()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &flow.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let resp = http
        .client()
        .post(&flow.token_url)
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(Duration::from_secs(60))
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            fail(format!(
                "the token exchange failed (cannot reach {}: {e}); run the login again",
                flow.token_url
            ))
        })?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| {
        fail(format!(
            "the token exchange failed (the answer was cut short: {e}); run the login again"
        ))
    })?;
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    match field("access_token") {
        Some(access) if (200..=299).contains(&status) => {
            Ok((Secret::new(access), field("refresh_token").map(Secret::new)))
        }
        _ => {
            // No token in this body, so it can be quoted.
            let detail = match field("error") {
                Some(e) => format!(
                    "{e}{}",
                    field("error_description")
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                None if field("access_token").is_some() => format!("HTTP {status}"),
                None => format!("HTTP {status}: {}", super::short(&body)),
            };
            Err(fail(format!(
                "the token exchange failed ({detail}); run the login again"
            )))
        }
    }
}

/// The LinkedIn app's client id and secret (config or environment), or a usage error naming
/// both ways to give them.
pub fn linkedin_client(
    api: &crate::config::ApiConfig,
) -> Result<(String, Secret), crate::error::Error> {
    let id = api.linkedin_client_id.trim();
    let secret = api.linkedin_client_secret.trim();
    if id.is_empty() || secret.is_empty() {
        return Err(crate::error::Error::Usage(
            "LinkedIn login needs your own developer app: set RAPPORT_LINKEDIN_CLIENT_ID and \
             RAPPORT_LINKEDIN_CLIENT_SECRET (or api.linkedin_client_id and \
             api.linkedin_client_secret in your config file); see README \"Fetch from platform \
             APIs\". Or pass an access token obtained elsewhere with --token."
                .into(),
        ));
    }
    Ok((id.to_string(), Secret::new(secret)))
}

/// `rapport login linkedin`: authorization code flow (PKCE sent too, harmless where it is not
/// used) with the user's own app, then the stored login (`account` names it, e.g. `me`).
pub async fn linkedin_oauth(
    http: &Http,
    api: &crate::config::ApiConfig,
    account: &str,
    open: impl FnOnce(String),
) -> Result<Credentials, crate::error::Error> {
    let (client_id, client_secret) = linkedin_client(api)?;
    let loopback = Loopback::bind_port(api.linkedin_redirect_port).await?;
    let (access, refresh) = code_flow(
        http,
        CodeFlow {
            platform: "linkedin",
            authorize_url: api.linkedin_authorize_url.trim().to_string(),
            token_url: api.linkedin_token_url.trim().to_string(),
            client_id,
            client_secret: Some(client_secret),
            scopes: api.linkedin_scope.clone(),
            timeout: Duration::from_secs(300),
            form_exchange: true,
        },
        loopback,
        open,
    )
    .await?;
    Ok(Credentials {
        platform: "linkedin".into(),
        account: account.to_string(),
        server: api.linkedin_api.trim().trim_end_matches('/').to_string(),
        owner: None,
        access_token: access,
        refresh_token: refresh,
        obtained_at: now_rfc3339(),
    })
}

/// `rapport login linkedin --token`: checks the token with one snapshot request for the
/// `PROFILE` domain (a 404 only means that domain is not built yet) and returns the login.
pub async fn linkedin_with_token(
    http: &Http,
    api: &crate::config::ApiConfig,
    account: &str,
    token: Secret,
) -> Result<Credentials, FetchError> {
    let base = api.linkedin_api.trim().trim_end_matches('/').to_string();
    let url = super::linkedin::first_url(&base, "PROFILE");
    let resp = http
        .send(|c| super::linkedin::request(c, &url, &token))
        .await?;
    let owner = if resp.status == 404 {
        None
    } else {
        let resp = resp.ok(
            "linkedin",
            "Check the token: it must come from an app with the Member Data Portability (Member) product and carry its scope (api.linkedin_scope).",
        )?;
        resp.json.as_ref().and_then(super::linkedin::profile_owner)
    };
    Ok(Credentials {
        platform: "linkedin".into(),
        account: account.to_string(),
        server: base,
        owner,
        access_token: token,
        refresh_token: None,
        obtained_at: now_rfc3339(),
    })
}

/// Tries to open `url` in a browser; silently does nothing where none can be started
/// (`RAPPORT_NO_BROWSER=1` skips it).
pub fn try_open_browser(url: &str) {
    if std::env::var_os("RAPPORT_NO_BROWSER").is_some() {
        return;
    }
    let candidates: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["explorer"]
    } else {
        &["xdg-open"]
    };
    for c in candidates {
        if std::process::Command::new(c)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
        {
            return;
        }
    }
}

/// `rapport login mastodon --instance URL`: registers an app on the instance, runs the code +
/// PKCE flow, checks the token with verify_credentials.
pub async fn mastodon_oauth(
    http: &Http,
    instance: &url::Url,
    api: &crate::config::ApiConfig,
    open: impl FnOnce(String),
) -> Result<Credentials, FetchError> {
    let base = instance.as_str().trim_end_matches('/').to_string();
    let loopback = Loopback::bind().await?;
    let apps = join(&base, "/api/v1/apps");
    let redirect = loopback.redirect_uri.clone();
    let app = http
        .send(|c| {
            c.post(&apps).form(&[
                ("client_name", "rapport"),
                ("redirect_uris", redirect.as_str()),
                ("scopes", MASTODON_SCOPES),
                ("website", "https://github.com/rapport-cli/rapport"),
            ])
        })
        .await?
        .ok(
            "mastodon",
            "The instance refused to register rapport as an app.",
        )?;
    let app = app.json()?;
    let field = |k: &str| {
        app.get(k)
            .and_then(|v| v.as_str())
            .map(String::from)
            .ok_or_else(|| FetchError::Protocol {
                url: apps.clone(),
                message: format!("the app registration has no {k}"),
            })
    };
    let client_id = field("client_id")?;
    let client_secret = field("client_secret").ok().map(Secret::new);
    let or = |v: &str, path: &str| {
        if v.trim().is_empty() {
            join(&base, path)
        } else {
            v.trim().to_string()
        }
    };
    let (access, _refresh) = code_flow(
        http,
        CodeFlow {
            platform: "mastodon",
            authorize_url: or(&api.mastodon_authorize_url, "/oauth/authorize"),
            token_url: or(&api.mastodon_token_url, "/oauth/token"),
            client_id,
            client_secret,
            scopes: MASTODON_SCOPES.into(),
            timeout: Duration::from_secs(300),
            form_exchange: false,
        },
        loopback,
        open,
    )
    .await?;
    mastodon_with_token(http, instance, access).await
}

/// A Bluesky session as createSession/refreshSession return it.
fn session_creds(
    server: &str,
    body: &serde_json::Value,
    url: &str,
) -> Result<Credentials, FetchError> {
    let s = |k: &str| body.get(k).and_then(|v| v.as_str()).map(String::from);
    let proto = |m: &str| FetchError::Protocol {
        url: url.to_string(),
        message: m.to_string(),
    };
    Ok(Credentials {
        platform: "bluesky".into(),
        account: s("handle").ok_or_else(|| proto("the session has no handle"))?,
        server: server.to_string(),
        owner: Some(s("did").ok_or_else(|| proto("the session has no did"))?),
        access_token: Secret::new(s("accessJwt").ok_or_else(|| proto("no accessJwt"))?),
        refresh_token: s("refreshJwt").map(Secret::new),
        obtained_at: now_rfc3339(),
    })
}

/// The PDS named in a session's DID document (`#atproto_pds`), if any.
fn pds_of(body: &serde_json::Value) -> Option<String> {
    body.get("didDoc")?
        .get("service")?
        .as_array()?
        .iter()
        .find(|s| {
            s.get("id")
                .and_then(|v| v.as_str())
                .is_some_and(|id| id.ends_with("#atproto_pds"))
        })?
        .get("serviceEndpoint")?
        .as_str()
        .map(|s| s.trim_end_matches('/').to_string())
}

/// `rapport login bluesky`: createSession with an app password on `server`. When `server` is
/// the default entryway, later requests go to the PDS the DID document names; an explicit
/// server (config or `RAPPORT_BLUESKY_PDS`) is always used as it is.
pub async fn bluesky_login(
    http: &Http,
    server: &str,
    follow_did_doc: bool,
    handle: &str,
    password: &Secret,
) -> Result<Credentials, FetchError> {
    let url = join(server, "/xrpc/com.atproto.server.createSession");
    let body = serde_json::json!({"identifier": handle, "password": password.expose()});
    let resp = http.send(|c| c.post(&url).json(&body)).await?;
    if resp.status == 401 || resp.status == 400 {
        return Err(FetchError::Auth {
            platform: "bluesky".into(),
            message: format!(
                "{server} refused the login for {handle} (HTTP {}): check the handle and use an app password (Settings → Privacy and security → App passwords)",
                resp.status
            ),
        });
    }
    let resp = resp.ok("bluesky", "")?;
    let json = resp.json()?;
    let pds = if follow_did_doc {
        pds_of(json).unwrap_or_else(|| server.trim_end_matches('/').to_string())
    } else {
        server.trim_end_matches('/').to_string()
    };
    session_creds(&pds, json, &url)
}

/// refreshSession with the stored refresh token; the new tokens replace the old ones.
pub async fn bluesky_refresh(http: &Http, creds: &Credentials) -> Result<Credentials, FetchError> {
    let url = join(&creds.server, "/xrpc/com.atproto.server.refreshSession");
    let relogin = format!(
        "The Bluesky session expired and could not be refreshed: run `rapport login bluesky --handle {}` again.",
        creds.account
    );
    let Some(refresh) = &creds.refresh_token else {
        return Err(FetchError::Auth {
            platform: "bluesky".into(),
            message: relogin,
        });
    };
    let resp = http
        .send(|c| c.post(&url).bearer_auth(refresh.expose()))
        .await?;
    if matches!(resp.status, 400 | 401) {
        return Err(FetchError::Auth {
            platform: "bluesky".into(),
            message: relogin,
        });
    }
    let resp = resp.ok("bluesky", &relogin)?;
    session_creds(&creds.server, resp.json()?, &url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show() {
        let s = Secret::new("hunter2-token");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let c = Credentials {
            platform: "mastodon".into(),
            account: "@me@h".into(),
            server: "https://h".into(),
            owner: None,
            access_token: s.clone(),
            refresh_token: Some(s),
            obtained_at: String::new(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn instance_urls() {
        let u = instance_base("mastodon.example").map(|u| u.to_string());
        assert_eq!(u.ok().as_deref(), Some("https://mastodon.example/"));
        let u = instance_base("http://127.0.0.1:3000/").ok();
        assert_eq!(u.as_ref().map(host_of).as_deref(), Some("127.0.0.1:3000"));
        assert_eq!(join("http://h/", "/x"), "http://h/x");
    }
}
