//! Threads API (Meta) → raw pages in the store + Activities: the login (authorization code with
//! the user's own app — id and secret — then the exchange for a long-lived token; or a token),
//! `/v1.0/me`, the user's threads and replies (paged by `after`, increments by `since`), and the
//! author of every post replied to that is not the user's own (looked up once each). Posts and
//! replies are mapped by the export importer's Threads rules (`sources::instagram`). The
//! long-lived token is refreshed by a fetch once it is a day old. Must not classify modes or use
//! Polars. Facts and sources: docs/apis.md, *Threads*.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::auth::{CodeFlow, Credentials, Loopback, code_flow};
use super::pages::{Forward, Listing, PageFacts, Walk, data_items};
use super::{
    Context, FetchFuture, FetchOptions, Fetcher, Http, LoginArgs, Progress, Response, join,
};
use crate::config::OAuthApp;
use crate::error::FetchError;
use crate::model::{Activity, Direction, Kind, Platform, Secret, Source};
use crate::sources::instagram::thread_reply;
use crate::store::{AccountState, AccountStore};

const THREADS: &str = "threads";
const REPLIES: &str = "replies";
const PARENTS: &str = "parents";
const VERSION: &str = "/v1.0";
const THREAD_FIELDS: &str = "id,media_type,text,timestamp,username,permalink,is_quote_post";
const REPLY_FIELDS: &str =
    "id,media_type,text,timestamp,username,permalink,is_reply,replied_to,root_post";

/// The Threads API client.
pub struct ThreadsApi;

impl Fetcher for ThreadsApi {
    fn platform(&self) -> Platform {
        Platform::Threads
    }

    fn login<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        args: &'a LoginArgs<'a>,
    ) -> FetchFuture<'a, Credentials> {
        Box::pin(async move {
            let app = &ctx.api.threads;
            let base = app.api.trim().trim_end_matches('/').to_string();
            let access = match &args.token {
                Some(t) => t.clone(),
                None => oauth(ctx.http, app, &base, args.open).await?,
            };
            let (_, username) = me(ctx.http, &base, &access).await?;
            let mut creds = Credentials::new(
                Platform::Threads,
                args.account.clone().unwrap_or(username.clone()),
                base,
                access,
            );
            creds.owner = Some(username);
            Ok(creds)
        })
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        creds: &'a Credentials,
        account: &'a AccountStore,
        options: &'a FetchOptions,
        progress: &'a Progress,
    ) -> FetchFuture<'a, Vec<String>> {
        Box::pin(fetch(ctx, creds, account, options, progress))
    }
}

fn login_hint() -> String {
    "Run `rapport login threads` again (or `rapport login threads --token -` with a long-lived token from your app's dashboard).".into()
}

fn auth_error(message: String) -> FetchError {
    FetchError::Auth {
        platform: "threads".into(),
        message,
    }
}

/// `rapport login threads`: authorization code with the app's id and secret (scopes are
/// comma-separated for Threads), then the short-lived token (1 hour) is exchanged for a
/// long-lived one (60 days).
async fn oauth(
    http: &Http,
    app: &OAuthApp,
    base: &str,
    open: &dyn Fn(&str),
) -> Result<Secret, FetchError> {
    let client_id = app.client_id.trim();
    if client_id.is_empty() || app.client_secret.is_empty() {
        return Err(FetchError::Usage(
            "Threads login needs your own Meta app with the Threads API (its Threads app id and \
             secret): set RAPPORT_THREADS_CLIENT_ID and RAPPORT_THREADS_CLIENT_SECRET (or \
             api.threads.client_id and api.threads.client_secret); see README \"Fetch from \
             platform APIs\". Or pass a long-lived token with --token."
                .into(),
        ));
    }
    let loopback = Loopback::bind_port(app.redirect_port).await?;
    let (short, _) = code_flow(
        http,
        CodeFlow {
            platform: "threads",
            authorize_url: app.authorize_url.trim().to_string(),
            token_url: app.token_url.trim().to_string(),
            client_id: client_id.to_string(),
            client_secret: Some(app.client_secret.clone()),
            scopes: String::new(),
            timeout: Duration::from_secs(300),
            form_exchange: true,
            extra: vec![("scope".into(), app.scope.replace(' ', ","))],
            basic_auth: false,
        },
        loopback,
        |u| open(&u),
    )
    .await?;
    let url = join(base, "/access_token");
    let query = [
        ("grant_type", "th_exchange_token"),
        ("client_secret", app.client_secret.expose()),
        ("access_token", short.expose()),
    ];
    token_get(http, &url, &query, "the exchange for a long-lived token").await
}

/// A GET that answers with a token (the long-lived exchange, the refresh): the address carries
/// secrets, so errors are reported without it.
async fn token_get(
    http: &Http,
    url: &str,
    query: &[(&str, &str)],
    what: &str,
) -> Result<Secret, FetchError> {
    let resp = http.send(|c| c.get(url).query(query)).await.map_err(|e| {
        let kind = match e {
            FetchError::Network { .. } => "the server could not be reached",
            _ => "the request failed",
        };
        auth_error(format!("{what} failed ({kind}). {}", login_hint()))
    })?;
    let token = resp
        .json
        .as_ref()
        .and_then(|j| j.get("access_token"))
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty());
    match token {
        Some(t) if (200..=299).contains(&resp.status) => Ok(Secret::new(t)),
        _ => Err(auth_error(format!(
            "{what} failed (HTTP {}: {}). {}",
            resp.status,
            graph_error(&resp).unwrap_or_default(),
            login_hint()
        ))),
    }
}

/// The message of a Graph API error body.
fn graph_error(resp: &Response) -> Option<String> {
    let e = resp.json.as_ref()?.get("error")?;
    Some(format!(
        "{} (code {})",
        e.get("message").and_then(|m| m.as_str()).unwrap_or("error"),
        e.get("code").and_then(|c| c.as_i64()).unwrap_or(0)
    ))
}

/// Graph API error codes that mean "too many calls" or "try again" (answered with HTTP 400,
/// not 429): retried with the client's backoff.
const GRAPH_RETRY: [i64; 7] = [1, 2, 4, 17, 32, 341, 613];

/// A GET of the API with the token in the Authorization header; Graph's "token invalid"
/// (error code 190, or any 401/403) becomes the login error, its rate-limit codes are waited
/// out like a 429.
async fn get(
    http: &Http,
    url: &str,
    query: &[(&str, &str)],
    token: &Secret,
) -> Result<Response, FetchError> {
    let code_of = |r: &Response| {
        r.json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(|e| e.get("code"))
            .and_then(|c| c.as_i64())
    };
    let mut attempt = 0;
    let resp = loop {
        let resp = http
            .send(|c| c.get(url).query(query).bearer_auth(token.expose()))
            .await?;
        match code_of(&resp) {
            Some(c) if GRAPH_RETRY.contains(&c) && attempt < http.policy().max_retries => {
                tokio::time::sleep(http.policy().backoff(attempt)).await;
                attempt += 1;
            }
            _ => break resp,
        }
    };
    let code = code_of(&resp);
    if matches!(code, Some(190 | 102)) || matches!(resp.status, 401 | 403) {
        return Err(auth_error(format!(
            "{} answered HTTP {} ({}): the stored login was rejected (revoked or expired). {}",
            resp.url,
            resp.status,
            graph_error(&resp).unwrap_or_default(),
            login_hint()
        )));
    }
    resp.ok("threads", &login_hint())
}

/// `/v1.0/me`: the user's id and username (lower case).
async fn me(http: &Http, base: &str, token: &Secret) -> Result<(String, String), FetchError> {
    let url = join(base, &format!("{VERSION}/me"));
    let resp = get(http, &url, &[("fields", "id,username")], token).await?;
    let j = resp.json()?;
    let id = match j.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let name = j
        .get("username")
        .and_then(|u| u.as_str())
        .map(|u| u.trim().trim_start_matches('@').to_lowercase());
    match (id, name) {
        (Some(id), Some(name)) if !name.is_empty() => Ok((id, name)),
        _ => Err(FetchError::Protocol {
            url,
            message: "me has no id and username".into(),
        }),
    }
}

/// A Threads time (`2024-09-12T23:17:39+0000`) in ms.
pub fn threads_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s.trim()))
        .ok()
        .map(|t| t.timestamp_millis())
}

struct ThreadsListing<'a> {
    http: &'a Http,
    token: &'a Secret,
    endpoint: &'static str,
    url: String,
    fields: &'static str,
}

impl Listing for ThreadsListing<'_> {
    fn endpoint(&self) -> &str {
        self.endpoint
    }

    fn forward(&self) -> Forward {
        Forward::Since
    }

    fn get<'a>(
        &'a self,
        cursor: Option<&'a str>,
        newer_than: Option<&'a str>,
    ) -> FetchFuture<'a, Response> {
        Box::pin(async move {
            let since = newer_than
                .and_then(threads_time)
                .map(|ms| (ms / 1000 + 1).to_string());
            let mut query: Vec<(&str, &str)> = vec![("fields", self.fields), ("limit", "100")];
            if let Some(c) = cursor {
                query.push(("after", c));
            }
            if let Some(s) = &since {
                query.push(("since", s));
            }
            get(self.http, &self.url, &query, self.token).await
        })
    }

    fn facts(&self, resp: &Response) -> Result<PageFacts, FetchError> {
        let page = resp.json()?;
        let data =
            page.get("data")
                .and_then(|d| d.as_array())
                .ok_or_else(|| FetchError::Protocol {
                    url: resp.url.clone(),
                    message: "expected data: [...]".into(),
                })?;
        let paging = page.get("paging");
        let next = paging
            .filter(|p| p.get("next").is_some_and(|n| n.is_string()))
            .and_then(|p| p.get("cursors"))
            .and_then(|c| c.get("after"))
            .and_then(|a| a.as_str())
            .filter(|a| !a.is_empty())
            .map(String::from);
        let time = |v: &Value| {
            v.get("timestamp")
                .and_then(|t| t.as_str())
                .map(String::from)
        };
        Ok(PageFacts {
            items: data.len() as u64,
            next,
            newest: data.first().and_then(time),
            oldest: data.last().and_then(time),
            oldest_at: data
                .iter()
                .filter_map(|v| v.get("timestamp").and_then(|t| t.as_str()))
                .filter_map(threads_time)
                .min(),
        })
    }
}

/// Refreshes a long-lived token that is at least a day old (Meta refuses younger ones);
/// returns the login to use. A refused refresh keeps the current token (a note says so).
async fn refreshed(
    ctx: &Context<'_>,
    creds: &Credentials,
    notes: &mut Vec<String>,
) -> Result<Credentials, FetchError> {
    let age = chrono::DateTime::parse_from_rfc3339(&creds.obtained_at)
        .map(|t| chrono::Utc::now().signed_duration_since(t))
        .unwrap_or_default();
    if age < chrono::Duration::hours(24) {
        return Ok(creds.clone());
    }
    let url = join(&creds.server, "/refresh_access_token");
    let query = [
        ("grant_type", "th_refresh_token"),
        ("access_token", creds.access_token.expose()),
    ];
    match token_get(ctx.http, &url, &query, "refreshing the long-lived token").await {
        Ok(token) => {
            let mut fresh = creds.clone();
            fresh.access_token = token;
            fresh.obtained_at =
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            super::auth::save(&fresh)?;
            Ok(fresh)
        }
        Err(_) => {
            notes.push(
                "the Threads token could not be refreshed; it lasts 60 days from the login".into(),
            );
            Ok(creds.clone())
        }
    }
}

async fn fetch(
    ctx: &Context<'_>,
    creds: &Credentials,
    store: &AccountStore,
    options: &FetchOptions,
    progress: &Progress,
) -> Result<Vec<String>, FetchError> {
    let mut notes = Vec::new();
    let creds = refreshed(ctx, creds, &mut notes).await?;
    let (id, username) = me(ctx.http, &creds.server, &creds.access_token).await?;
    let mut state = store.load_state()?;
    state.owner = Some(username.clone());
    state.meta.insert("user_id".into(), id);
    state.server = Some(creds.server.clone());
    store.save_state(&state)?;
    let walk = Walk {
        store,
        options,
        progress,
    };
    for (endpoint, path, fields) in [
        (THREADS, "/me/threads", THREAD_FIELDS),
        (REPLIES, "/me/replies", REPLY_FIELDS),
    ] {
        let listing = ThreadsListing {
            http: ctx.http,
            token: &creds.access_token,
            endpoint,
            url: join(&creds.server, &format!("{VERSION}{path}")),
            fields,
        };
        walk.run(&listing, &mut state, &mut notes).await?;
    }
    let mut pages = pages_of(store, &state)?;
    lookup_parents(ctx.http, &creds, store, &mut state, &mut pages).await?;
    let activities = normalize(&state, &pages);
    store.write_activities(&activities)?;
    state.last_fetch = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    store.save_state(&state)?;
    Ok(notes)
}

/// The authors of the posts replied to that are neither the user's own nor looked up before:
/// one request each, stored as a page of the `parents` endpoint (a post that cannot be read
/// is stored without a username: its author stays unknown). The new pages join `pages`.
async fn lookup_parents(
    http: &Http,
    creds: &Credentials,
    store: &AccountStore,
    state: &mut AccountState,
    pages: &mut Pages,
) -> Result<(), FetchError> {
    let mut wanted: Vec<String> = {
        let own: HashSet<&str> = own_ids(pages).collect();
        let known = parent_authors(pages);
        data_items(&pages.replies)
            .filter_map(replied_to)
            .filter(|p| !own.contains(p) && !known.contains_key(*p))
            .map(String::from)
            .collect()
    };
    wanted.sort();
    wanted.dedup();
    for parent in wanted {
        let url = join(&creds.server, &format!("{VERSION}/{parent}"));
        let body = match get(
            http,
            &url,
            &[("fields", "id,username")],
            &creds.access_token,
        )
        .await
        {
            Ok(resp) => resp.body,
            // Deleted or private: remembered as unknown, not asked again.
            Err(FetchError::Http { .. }) => {
                serde_json::to_vec(&json!({"id": parent})).unwrap_or_default()
            }
            Err(e) => return Err(e),
        };
        store.store_page(state, PARENTS, &body, 1, Value::Null)?;
        if let Ok(v) = serde_json::from_slice(&body) {
            pages.parents.push(v);
        }
    }
    Ok(())
}

/// The stored pages, parsed.
pub struct Pages {
    /// `threads` pages.
    pub threads: Vec<Value>,
    /// `replies` pages.
    pub replies: Vec<Value>,
    /// One looked-up post (`{id, username}`) per page.
    pub parents: Vec<Value>,
}

fn pages_of(store: &AccountStore, state: &AccountState) -> Result<Pages, FetchError> {
    let read = |e: &str| store.json_pages(state, e);
    Ok(Pages {
        threads: read(THREADS)?,
        replies: read(REPLIES)?,
        parents: read(PARENTS)?,
    })
}

fn own_ids(pages: &Pages) -> impl Iterator<Item = &str> {
    data_items(&pages.threads)
        .chain(data_items(&pages.replies))
        .filter_map(|v| v.get("id").and_then(|i| i.as_str()))
}

fn replied_to(v: &Value) -> Option<&str> {
    v.get("replied_to")
        .and_then(|r| r.get("id"))
        .and_then(|i| i.as_str())
}

fn parent_authors(pages: &Pages) -> HashMap<&str, Option<&str>> {
    pages
        .parents
        .iter()
        .filter_map(|p| {
            Some((
                p.get("id")?.as_str()?,
                p.get("username").and_then(|u| u.as_str()),
            ))
        })
        .collect()
}

/// The activities of an account's stored pages (a pure function of them), each id once: posts
/// broadcast (reposts amplification), replies by the export's reply rule with the author of the
/// post replied to.
pub fn normalize(state: &AccountState, pages: &Pages) -> Vec<Activity> {
    let owner = state.owner.as_deref();
    let own: HashSet<&str> = own_ids(pages).collect();
    let authors = parent_authors(pages);
    let mut seen = HashSet::new();
    let mut acts = Vec::new();
    let sources: [Source; 2] = [
        Source::from("threads API: me/threads"),
        Source::from("threads API: me/replies"),
    ];
    for (k, (list, source)) in [&pages.threads, &pages.replies]
        .into_iter()
        .zip(&sources)
        .enumerate()
    {
        for (i, v) in data_items(list).enumerate() {
            let Some(id) = v.get("id").and_then(|i| i.as_str()) else {
                continue;
            };
            if !seen.insert(id.to_string()) {
                continue;
            }
            let at = v
                .get("timestamp")
                .and_then(|t| t.as_str())
                .and_then(threads_time);
            let repost = v.get("media_type").and_then(|m| m.as_str()) == Some("REPOST_FACADE");
            let mut a = Activity::new(
                Platform::Threads,
                id.to_string(),
                at,
                Direction::Out,
                if repost { Kind::Repost } else { Kind::Post },
                source.clone(),
            );
            a.hints.seq = i as u64;
            let is_reply = k == 1 || v.get("is_reply").and_then(|r| r.as_bool()) == Some(true);
            if is_reply && !repost {
                let parent = replied_to(v);
                let to = match parent {
                    Some(p) if own.contains(p) => owner,
                    Some(p) => authors.get(p).copied().flatten(),
                    None => None,
                };
                thread_reply(&mut a, to, owner);
                if let Some(p) = parent {
                    a.hints.set_parent(Some(p.to_string()));
                }
            }
            acts.push(a);
        }
    }
    acts
}
