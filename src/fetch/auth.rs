//! Logins' common parts: the stored [`Credentials`] and their token files (0600 in a 0700
//! folder of the user's config dir), tokens given on the command line or standard input, and
//! the generic OAuth2 authorization code + PKCE flow with its loopback listener. Each
//! platform's own login (which endpoints, which app, which checks) lives in its fetcher file.
//! Must not fetch activity, touch the store of fetched data, or print a token anywhere.

use std::io::Read as _;
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
pub use crate::model::Secret;
use crate::store::write_atomic;

/// A stored login (one file per account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// The platform.
    #[serde(with = "platform_name")]
    pub platform: Platform,
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

/// `platform` is written by name in token files (`"mastodon"`).
mod platform_name {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use crate::model::Platform;

    pub fn serialize<S: Serializer>(p: &Platform, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Platform, D::Error> {
        let name = String::deserialize(d)?;
        Platform::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown platform {name:?}")))
    }
}

impl Credentials {
    /// A login obtained now.
    pub fn new(
        platform: Platform,
        account: impl Into<String>,
        server: impl Into<String>,
        access_token: Secret,
    ) -> Credentials {
        Credentials {
            platform,
            account: account.into(),
            server: server.into(),
            owner: None,
            access_token,
            refresh_token: None,
            obtained_at: now_rfc3339(),
        }
    }
}

/// A token given as a flag value, or `-` for standard input (so it never shows in `ps` or the
/// shell history); blank is none.
pub fn token_arg(value: Option<String>) -> Result<Option<Secret>, FetchError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut text)
                .map_err(|e| FetchError::Auth {
                    platform: "login".into(),
                    message: format!("cannot read the token from standard input: {e}"),
                })?;
            let token = text.trim();
            if token.is_empty() {
                return Err(FetchError::Auth {
                    platform: "login".into(),
                    message: "--token - was given, but standard input holds no token".into(),
                });
            }
            Ok(Some(Secret::new(token)))
        }
        Some(t) => Ok(Some(Secret::new(t))),
    }
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
    crate::store::create_private_dir(&dir)?;
    let path = token_file(&dir, creds.platform, &creds.account);
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

/// What the loopback listener received.
#[derive(Debug)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// How long one browser connection may take to send its request head.
const CONNECTION_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once (browsers open a few speculatively).
const MAX_CONNECTIONS: usize = 16;

/// Waits for the `GET /callback?…` on `listener` and answers it with a short page. Several
/// connections are served at once, each with its own read timeout, so a browser's idle
/// pre-connect (or a stray probe) cannot block the real callback.
async fn one_callback(
    listener: tokio::net::TcpListener,
    timeout: Duration,
) -> Result<Callback, FetchError> {
    let fail = |m: String| FetchError::Auth {
        platform: "oauth".into(),
        message: m,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(MAX_CONNECTIONS);
    let mut connections = tokio::task::JoinSet::new();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let target = loop {
        tokio::select! {
            _ = &mut deadline => {
                return Err(fail(format!(
                    "no answer from the browser within {} s; run the login again",
                    timeout.as_secs()
                )));
            }
            Some(target) = rx.recv() => break target,
            accepted = listener.accept() => {
                let Ok((sock, _)) = accepted else { continue };
                while connections.try_join_next().is_some() {}
                if connections.len() < MAX_CONNECTIONS {
                    connections.spawn(serve_connection(sock, tx.clone()));
                }
            }
        }
    };
    connections.abort_all();
    let url = url::Url::parse(&format!("http://127.0.0.1{target}"))
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

/// Reads one request head (bounded in time and size); a `/callback` target is answered with a
/// page and handed over, anything else gets a 404.
async fn serve_connection(
    mut sock: tokio::net::TcpStream,
    found: tokio::sync::mpsc::Sender<String>,
) {
    let read = async {
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
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
        Ok::<String, std::io::Error>(String::from_utf8_lossy(&buf[..len]).into_owned())
    };
    let Ok(Ok(head)) = tokio::time::timeout(CONNECTION_READ_TIMEOUT, read).await else {
        return; // idle or broken connection: dropped
    };
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    if !target.starts_with("/callback") {
        // A favicon request or a probe: not ours.
        let _ = sock
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
        return;
    }
    let page = "<!doctype html><title>rapport</title><p>rapport received the login. You can close this tab.</p>";
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = sock.write_all(answer.as_bytes()).await;
    let _ = sock.shutdown().await;
    let _ = found.send(target).await;
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
    /// Extra query parameters of the authorize address (e.g. Reddit's `duration=permanent`).
    pub extra: Vec<(String, String)>,
    /// Send the client id (and secret) as HTTP Basic auth to the token endpoint (Reddit)
    /// instead of in the form; implies `form_exchange`.
    pub basic_auth: bool,
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
    for (k, v) in &flow.extra {
        request = request.add_extra_param(k.clone(), v.clone());
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
    if flow.form_exchange || flow.basic_auth {
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
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let secret = flow.client_secret.as_ref().map(|s| s.expose());
    let basic = flow.basic_auth.then_some((flow.client_id.as_str(), secret));
    if basic.is_none() {
        form.push(("client_id", flow.client_id.as_str()));
        if let Some(secret) = secret {
            form.push(("client_secret", secret));
        }
    }
    let answer = token_request(http, flow.platform, &flow.token_url, &form, basic).await?;
    Ok((answer.access, answer.refresh))
}

/// A stored login renewed with the refresh-token grant of the user's `app` (client credentials
/// as HTTP Basic auth when `basic`) and saved with the new tokens; the login error `message`
/// when there is no refresh token or the server refuses it.
pub async fn refresh_login(
    http: &Http,
    app: &crate::config::OAuthApp,
    creds: &Credentials,
    basic: bool,
    message: String,
) -> Result<Credentials, FetchError> {
    let relogin = || FetchError::Auth {
        platform: creds.platform.as_str().to_string(),
        message: message.clone(),
    };
    let Some(refresh) = &creds.refresh_token else {
        return Err(relogin());
    };
    let answer = refresh_grant(
        http,
        creds.platform.as_str(),
        app.token_url.trim(),
        app.client_id.trim(),
        Some(&app.client_secret),
        refresh,
        basic,
    )
    .await
    .map_err(|_| relogin())?;
    let mut fresh = creds.clone();
    fresh.access_token = answer.access;
    fresh.refresh_token = answer.refresh;
    fresh.obtained_at = now_rfc3339();
    save(&fresh)?;
    Ok(fresh)
}

/// The refresh-token grant (RFC 6749 §6), sent once. A server that rotates refresh tokens
/// sends a new one, which replaces the old (kept otherwise). Client credentials go in the form,
/// or as HTTP Basic auth when `basic` (Reddit).
pub async fn refresh_grant(
    http: &Http,
    platform: &str,
    token_url: &str,
    client_id: &str,
    client_secret: Option<&Secret>,
    refresh: &Secret,
    basic: bool,
) -> Result<TokenAnswer, FetchError> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.expose()),
    ];
    let secret = client_secret.map(|s| s.expose()).filter(|s| !s.is_empty());
    if !basic {
        form.push(("client_id", client_id));
        if let Some(s) = secret {
            form.push(("client_secret", s));
        }
    }
    let mut answer = token_request(
        http,
        platform,
        token_url,
        &form,
        basic.then_some((client_id, secret)),
    )
    .await?;
    if answer.refresh.is_none() {
        answer.refresh = Some(refresh.clone());
    }
    Ok(answer)
}

/// What a token endpoint answered.
#[derive(Debug)]
pub struct TokenAnswer {
    /// `access_token`.
    pub access: Secret,
    /// `refresh_token`, when one came.
    pub refresh: Option<Secret>,
}

/// One POST to a token endpoint (a code exchange, a refresh, a long-lived-token exchange):
/// sent once (codes and refresh tokens are single-use), with the client's timeouts and body
/// cap, the answer read as JSON. `basic` sends the client credentials as HTTP Basic auth (for
/// providers that want them so). Errors quote the server's error, never a token.
pub async fn token_request(
    http: &Http,
    platform: &str,
    token_url: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, Option<&str>)>,
) -> Result<TokenAnswer, FetchError> {
    let fail = |m: String| FetchError::Auth {
        platform: platform.to_string(),
        message: m,
    };
    let resp = http
        .send_once(|c| {
            let r = c
                .post(token_url)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(form);
            match basic {
                Some((id, secret)) => r.basic_auth(id, secret),
                None => r,
            }
        })
        .await
        .map_err(|e| {
            fail(format!(
                "the token request to {token_url} failed ({e}); run the login again"
            ))
        })?;
    let field = |k: &str| {
        resp.json
            .as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    match field("access_token") {
        Some(access) if (200..=299).contains(&resp.status) => Ok(TokenAnswer {
            access: Secret::new(access),
            refresh: field("refresh_token").map(Secret::new),
        }),
        _ => {
            // No token in this body, so it can be quoted.
            let detail = match field("error") {
                Some(e) => format!(
                    "{e}{}",
                    field("error_description")
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                None if field("access_token").is_some() => format!("HTTP {}", resp.status),
                None => format!("HTTP {}: {}", resp.status, super::short(&resp.body)),
            };
            Err(fail(format!(
                "the token exchange failed ({detail}); run the login again"
            )))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_browser_pre_connect_does_not_block_the_callback() {
        let loopback = Loopback::bind().await.expect("bind");
        let addr = loopback.redirect_uri.clone();
        let port: u16 = addr
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/callback")
            .parse()
            .expect("port");
        let waiting = tokio::spawn(one_callback(loopback.listener, Duration::from_secs(20)));
        // A speculative connection that never sends a byte, and one that sends half a head.
        let _idle = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("idle");
        let mut half = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("half");
        half.write_all(b"GET /callback?code=").await.expect("write");
        // A favicon request, then the real callback.
        for target in ["/favicon.ico", "/callback?code=abc&state=xyz"] {
            let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            sock.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .expect("write");
            let mut answer = Vec::new();
            let _ = sock.read_to_end(&mut answer).await;
        }
        let cb = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("not blocked by the idle connections")
            .expect("task")
            .expect("callback");
        assert_eq!(cb.code.as_deref(), Some("abc"));
        assert_eq!(cb.state.as_deref(), Some("xyz"));
    }

    #[test]
    fn secrets_do_not_show() {
        let s = Secret::new("hunter2-token");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let mut c = Credentials::new(Platform::Mastodon, "@me@h", "https://h", s.clone());
        c.refresh_token = Some(s);
        assert!(!format!("{c:?}").contains("hunter2"));
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert!(json.contains("\"platform\":\"mastodon\""), "{json}");
        let back: Credentials = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back.platform, Platform::Mastodon);
    }
}
