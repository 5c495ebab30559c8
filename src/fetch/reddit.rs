//! Reddit's OAuth API → raw pages in the store + Activities: the login (authorization code for
//! the user's own installed app, `duration=permanent`, client id as HTTP Basic auth with an
//! empty secret; refresh tokens used; or a token), `/api/v1/me`, the user's submitted posts and
//! comments, the inbox (messages and comment replies received) and sent messages, paged by
//! `after`, increments by `before`. Every request carries Reddit's descriptive User-Agent and
//! honours its `X-Ratelimit-*` headers (in `fetch::Http`). Items are mapped by the export
//! importer's rules (`sources::reddit`), so fetched and exported accounts count alike and share
//! ids. Must not classify modes or use Polars. Facts and sources: docs/apis.md, *Reddit*.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::auth::{CodeFlow, Credentials, Loopback, code_flow, refresh_login};
use super::pages::{Forward, Listing, PageFacts, Walk};
use super::{
    Context, FetchFuture, FetchOptions, Fetcher, Http, LoginArgs, Progress, Response, join,
};
use crate::config::OAuthApp;
use crate::error::FetchError;
use crate::model::{Activity, Direction, Interner, Kind, Platform, Secret, Source};
use crate::sources::reddit::{MessageFacts, message_activity, own_item, user};
use crate::store::{AccountState, AccountStore};

const SUBMITTED: &str = "submitted";
const COMMENTS: &str = "comments";
const INBOX: &str = "inbox";
const SENT: &str = "sent";

/// The Reddit API client.
pub struct RedditApi;

impl Fetcher for RedditApi {
    fn platform(&self) -> Platform {
        Platform::Reddit
    }

    fn login<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        args: &'a LoginArgs<'a>,
    ) -> FetchFuture<'a, Credentials> {
        Box::pin(async move {
            let app = &ctx.api.reddit;
            let base = app.api.trim().trim_end_matches('/').to_string();
            let (access, refresh) = match &args.token {
                Some(t) => (t.clone(), None),
                None => oauth(ctx.http, app, args.open).await?,
            };
            let name = me(ctx.http, app, &base, &access, None).await?;
            let mut creds = Credentials::new(
                Platform::Reddit,
                args.account.clone().unwrap_or_else(|| name.clone()),
                base,
                access,
            );
            creds.owner = Some(name);
            creds.refresh_token = refresh;
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
    "Run `rapport login reddit` again (or `rapport login reddit --token -`).".into()
}

/// The User-Agent Reddit asks for: `<platform>:<app id>:<version> (by /u/<username>)`.
fn user_agent(app: &OAuthApp, username: Option<&str>) -> String {
    if !app.user_agent.trim().is_empty() {
        return app.user_agent.trim().to_string();
    }
    let id = if app.client_id.trim().is_empty() {
        "rapport"
    } else {
        app.client_id.trim()
    };
    let by = username
        .map(|u| format!(" (by /u/{u})"))
        .unwrap_or_default();
    format!("cli:{id}:v{}{by}", env!("CARGO_PKG_VERSION"))
}

/// `rapport login reddit`: authorization code for an installed app (no secret; Reddit has no
/// PKCE, the verifier rapport sends is ignored), `duration=permanent` for a refresh token.
async fn oauth(
    http: &Http,
    app: &OAuthApp,
    open: &dyn Fn(&str),
) -> Result<(Secret, Option<Secret>), FetchError> {
    let client_id = app.client_id.trim();
    if client_id.is_empty() {
        return Err(FetchError::Usage(
            "Reddit login needs your own installed app (reddit.com/prefs/apps, type \"installed \
             app\", redirect uri http://127.0.0.1:<port>/callback, approved for API access): set \
             RAPPORT_REDDIT_CLIENT_ID and RAPPORT_REDDIT_REDIRECT_PORT (or api.reddit.client_id \
             and api.reddit.redirect_port); see README \"Fetch from platform APIs\". Or pass a \
             token with --token."
                .into(),
        ));
    }
    let loopback = Loopback::bind_port(app.redirect_port).await?;
    code_flow(
        http,
        CodeFlow {
            platform: "reddit",
            authorize_url: app.authorize_url.trim().to_string(),
            token_url: app.token_url.trim().to_string(),
            client_id: client_id.to_string(),
            client_secret: (!app.client_secret.is_empty()).then(|| app.client_secret.clone()),
            scopes: app.scope.clone(),
            timeout: Duration::from_secs(300),
            form_exchange: true,
            extra: vec![("duration".into(), "permanent".into())],
            basic_auth: true,
        },
        loopback,
        |u| open(&u),
    )
    .await
}

async fn get(
    http: &Http,
    ua: &str,
    url: &str,
    query: &[(&str, &str)],
    token: &Secret,
) -> Result<Response, FetchError> {
    http.send(|c| {
        c.get(url)
            .query(query)
            .query(&[("raw_json", "1")])
            .header(reqwest::header::USER_AGENT, ua)
            .bearer_auth(token.expose())
    })
    .await
}

/// `/api/v1/me`: the username (lower case, as the rules compare it).
async fn me(
    http: &Http,
    app: &OAuthApp,
    base: &str,
    token: &Secret,
    known: Option<&str>,
) -> Result<String, FetchError> {
    let url = join(base, "/api/v1/me");
    let resp = get(http, &user_agent(app, known), &url, &[], token)
        .await?
        .ok("reddit", &login_hint())?;
    name_of(&resp)
}

fn name_of(resp: &Response) -> Result<String, FetchError> {
    resp.json()?
        .get("name")
        .and_then(|v| v.as_str())
        .and_then(user)
        .ok_or_else(|| FetchError::Protocol {
            url: resp.url.clone(),
            message: "api/v1/me has no name".into(),
        })
}

/// The stored login, refreshed (and saved) when Reddit rejects the access token.
async fn session(
    ctx: &Context<'_>,
    creds: &Credentials,
) -> Result<(Credentials, String), FetchError> {
    let app = &ctx.api.reddit;
    let known = creds.owner.as_deref();
    let url = join(&creds.server, "/api/v1/me");
    let resp = get(
        ctx.http,
        &user_agent(app, known),
        &url,
        &[],
        &creds.access_token,
    )
    .await?;
    if resp.status != 401 {
        let name = name_of(&resp.ok("reddit", &login_hint())?)?;
        return Ok((creds.clone(), name));
    }
    let message = format!(
        "Reddit rejected the stored login and it could not be refreshed. {}",
        login_hint()
    );
    let fresh = refresh_login(ctx.http, app, creds, true, message).await?;
    let name = me(ctx.http, app, &fresh.server, &fresh.access_token, known).await?;
    Ok((fresh, name))
}

/// One Reddit listing.
struct RedditListing<'a> {
    http: &'a Http,
    ua: &'a str,
    token: &'a Secret,
    endpoint: &'static str,
    url: String,
    sort_new: bool,
}

impl Listing for RedditListing<'_> {
    fn endpoint(&self) -> &str {
        self.endpoint
    }

    fn forward(&self) -> Forward {
        Forward::MovingAnchor
    }

    fn get<'a>(
        &'a self,
        cursor: Option<&'a str>,
        newer_than: Option<&'a str>,
    ) -> FetchFuture<'a, Response> {
        Box::pin(async move {
            let mut query: Vec<(&str, &str)> = vec![("limit", "100")];
            if self.sort_new {
                query.push(("sort", "new"));
            }
            if let Some(c) = cursor {
                query.push(("after", c));
            }
            if let Some(n) = newer_than {
                query.push(("before", n));
            }
            get(self.http, self.ua, &self.url, &query, self.token)
                .await?
                .ok("reddit", &login_hint())
        })
    }

    fn facts(&self, resp: &Response) -> Result<PageFacts, FetchError> {
        let page = resp.json()?;
        let data = page.get("data");
        let children = data
            .and_then(|d| d.get("children"))
            .and_then(|c| c.as_array())
            .ok_or_else(|| FetchError::Protocol {
                url: resp.url.clone(),
                message: "expected a Listing with data.children".into(),
            })?;
        let name = |c: &Value| {
            c.get("data")
                .and_then(|d| d.get("name"))
                .and_then(|n| n.as_str())
                .map(String::from)
        };
        Ok(PageFacts {
            items: children.len() as u64,
            next: data
                .and_then(|d| d.get("after"))
                .and_then(|a| a.as_str())
                .filter(|a| !a.is_empty())
                .map(String::from),
            newest: children.first().and_then(name),
            oldest: children.last().and_then(name),
            oldest_at: children
                .iter()
                .filter_map(|c| created(c.get("data")?))
                .min(),
        })
    }
}

/// `created_utc` (float seconds) in ms.
fn created(d: &Value) -> Option<i64> {
    let s = d.get("created_utc")?.as_f64()?;
    s.is_finite().then(|| (s * 1000.0).round() as i64)
}

/// Fetches what is new for the logged-in user and rebuilds the activity table.
async fn fetch(
    ctx: &Context<'_>,
    creds: &Credentials,
    store: &AccountStore,
    options: &FetchOptions,
    progress: &Progress,
) -> Result<Vec<String>, FetchError> {
    let (creds, name) = session(ctx, creds).await?;
    let ua = user_agent(&ctx.api.reddit, Some(&name));
    let mut notes = Vec::new();
    let mut state = store.load_state()?;
    state.owner = Some(name.clone());
    state.server = Some(creds.server.clone());
    store.save_state(&state)?;
    let first_fetch = state.last_fetch.is_none();
    let walk = Walk {
        store,
        options,
        progress,
    };
    for (endpoint, path, sort_new) in [
        (SUBMITTED, format!("/user/{name}/submitted"), true),
        (COMMENTS, format!("/user/{name}/comments"), true),
        (INBOX, "/message/inbox".to_string(), false),
        (SENT, "/message/sent".to_string(), false),
    ] {
        let listing = RedditListing {
            http: ctx.http,
            ua: &ua,
            token: &creds.access_token,
            endpoint,
            url: join(&creds.server, &path),
            sort_new,
        };
        walk.run(&listing, &mut state, &mut notes).await?;
    }
    if first_fetch {
        notes.push(
            "Reddit's API lists only the newest ~1,000 items of each kind (posts, comments, \
             inbox, sent): for older history analyze your Reddit data export too; the same posts, \
             comments and messages carry the same ids and are counted once"
                .into(),
        );
    }
    let activities = normalize(&state, &pages_of(store, &state)?);
    store.write_activities(&activities)?;
    state.last_fetch = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    store.save_state(&state)?;
    Ok(notes)
}

/// The stored pages of each listing, parsed.
pub struct Pages {
    /// `submitted`, `comments`, `inbox`, `sent`, in that order.
    pub listings: [Vec<Value>; 4],
}

fn pages_of(store: &AccountStore, state: &AccountState) -> Result<Pages, FetchError> {
    let read = |e: &str| store.json_pages(state, e);
    Ok(Pages {
        listings: [read(SUBMITTED)?, read(COMMENTS)?, read(INBOX)?, read(SENT)?],
    })
}

/// `(kind, data)` of every thing of some pages.
fn things(pages: &[Value]) -> impl Iterator<Item = (&str, &Value)> {
    pages
        .iter()
        .filter_map(|p| p.get("data")?.get("children")?.as_array())
        .flatten()
        .filter_map(|c| Some((c.get("kind")?.as_str()?, c.get("data")?)))
}

fn s<'a>(d: &'a Value, k: &str) -> &'a str {
    d.get(k).and_then(|v| v.as_str()).unwrap_or("")
}

/// The activities of an account's stored pages (a pure function of them), each fullname once:
/// posts and comments by the export's rules, messages in and out as the export's messages,
/// comment replies and mentions received as `in` replies from their author.
pub fn normalize(state: &AccountState, pages: &Pages) -> Vec<Activity> {
    let owner = state.owner.clone().unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut acts = Vec::new();
    // One copy of each person and conversation id, as the export shares them.
    let mut shared = Interner::default();
    let sources: [Source; 4] = [
        Source::from("reddit API: user/submitted"),
        Source::from("reddit API: user/comments"),
        Source::from("reddit API: message/inbox"),
        Source::from("reddit API: message/sent"),
    ];
    for (k, (pages, source)) in pages.listings.iter().zip(&sources).enumerate() {
        for (i, (kind, d)) in things(pages).enumerate() {
            let name = s(d, "name");
            if name.is_empty() || !seen.insert(name.to_string()) {
                continue;
            }
            let at = created(d);
            match (k, kind) {
                (0, "t3") => acts.push(own_item(Kind::Post, name.to_string(), at, source)),
                (1, "t1") => acts.push(own_item(Kind::Comment, name.to_string(), at, source)),
                (_, "t4") if !owner.is_empty() => {
                    let facts = MessageFacts {
                        id: name.trim_start_matches("t4_"),
                        at,
                        from: s(d, "author"),
                        to: s(d, "dest"),
                        thread: s(d, "first_message_name").trim_start_matches("t4_"),
                        seq: i as u64,
                    };
                    acts.push(message_activity(&facts, &owner, source, &mut shared));
                }
                // A comment reply, post reply or mention in the inbox: received from its author.
                (2, "t1") => {
                    let author = user(s(d, "author"));
                    if author.as_deref() == Some(owner.as_str()) {
                        continue;
                    }
                    let mut a = Activity::new(
                        Platform::Reddit,
                        name.to_string(),
                        at,
                        Direction::In,
                        Kind::Reply,
                        source.clone(),
                    );
                    a.counterparts = author
                        .map(|u| Box::new([Arc::from(format!("u:{u}"))]) as Box<[_]>)
                        .unwrap_or_default();
                    acts.push(a);
                }
                _ => {}
            }
        }
    }
    acts
}
