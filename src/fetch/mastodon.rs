//! Mastodon REST API → raw pages in the store + Activities: the login (app registration on the
//! instance, OAuth2 code + PKCE, or a token), verify_credentials, the account's statuses (direct
//! ones included), favourites, notifications of type mention (received → `in`) and the
//! accounts needed to name people by their actor URI. Owns Mastodon paging and the API-field →
//! facts mapping; the facts go through the archive importer's rules
//! (`sources::mastodon::status_activity`), so a fetched status and the same exported status are
//! classified alike. Must not classify modes, parse exports or use Polars.
//!
//! Paging: a first fetch walks back in time with `max_id` taken from the `Link: rel="next"`
//! header until an empty page. Later fetches ask for `min_id=<newest stored>` (the
//! `Link: rel="prev"` value) and move forward until an empty page, so an unchanged account
//! costs one request per endpoint. The ids in `Link` are opaque: rapport only copies them, and
//! stops (with a note) when a server hands out a cursor twice or one that does not move.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::auth::{CodeFlow, Credentials, Loopback, code_flow};
use super::{
    Context, FetchFuture, FetchOptions, Fetcher, Http, LoginArgs, PageGuard, Progress, host_of,
    id_cmp, join, link_param, parse_time,
};
use crate::error::FetchError;
use crate::model::{Activity, Direction, Interner, Kind, Platform, Secret, Source};
use crate::sources::mastodon::{StatusFacts, leading_tokens, status_activity};
use crate::store::{AccountState, AccountStore};

/// Endpoint name of the account's statuses in the store.
pub const STATUSES: &str = "statuses";
/// Endpoint name of mention notifications in the store.
pub const MENTIONS: &str = "mentions";
/// Endpoint name of favourites in the store.
pub const FAVOURITES: &str = "favourites";
/// Endpoint name of looked-up accounts in the store (one account per page).
pub const ACCOUNTS: &str = "accounts";
/// Page size (Mastodon's maximum for these endpoints).
const LIMIT: &str = "40";
/// Mastodon scopes rapport asks for: read-only, nothing more.
pub const MASTODON_SCOPES: &str = "read:accounts read:statuses read:notifications read:favourites";

/// The Mastodon API client.
pub struct MastodonApi;

impl Fetcher for MastodonApi {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    fn login<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        args: &'a LoginArgs<'a>,
    ) -> FetchFuture<'a, Credentials> {
        Box::pin(async move {
            let instance = args.instance.as_deref().ok_or_else(|| FetchError::Usage(
                "Mastodon login needs your instance: rapport login mastodon --instance https://mastodon.social".into(),
            ))?;
            let instance = instance_base(instance)?;
            match &args.token {
                Some(token) => with_token(ctx.http, &instance, token.clone()).await,
                None => oauth(ctx, &instance, args.open).await,
            }
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
        Box::pin(fetch(ctx.http, creds, account, options, progress))
    }
}

/// `https://host[:port]` of an instance URL, without a trailing slash.
pub fn instance_base(instance: &str) -> Result<url::Url, FetchError> {
    let with_scheme = if instance.contains("://") {
        instance.to_string()
    } else {
        format!("https://{instance}")
    };
    let mut u = url::Url::parse(&with_scheme).map_err(|e| {
        FetchError::Usage(format!(
            "--instance {instance:?} is not a URL ({e}); use e.g. https://mastodon.social"
        ))
    })?;
    if u.host_str().is_none() {
        return Err(FetchError::Usage(format!(
            "--instance {instance:?} has no host; use e.g. https://mastodon.social"
        )));
    }
    u.set_path("");
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// Checks a token with verify_credentials and returns the stored login.
async fn with_token(
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
    let mut creds = Credentials::new(
        Platform::Mastodon,
        format!("@{username}@{}", host_of(instance)),
        base,
        token,
    );
    creds.owner = actor_of_account(me);
    Ok(creds)
}

/// The browser login: registers rapport as an app on the instance (once: a registration is
/// not repeated on errors), runs the code + PKCE flow, checks the token.
async fn oauth(
    ctx: &Context<'_>,
    instance: &url::Url,
    open: &dyn Fn(&str),
) -> Result<Credentials, FetchError> {
    let http = ctx.http;
    let base = instance.as_str().trim_end_matches('/').to_string();
    let loopback = Loopback::bind().await?;
    let apps = join(&base, "/api/v1/apps");
    let redirect = loopback.redirect_uri.clone();
    let app = http
        .send_once(|c| {
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
            authorize_url: or(&ctx.api.mastodon_authorize_url, "/oauth/authorize"),
            token_url: or(&ctx.api.mastodon_token_url, "/oauth/token"),
            client_id,
            client_secret,
            scopes: MASTODON_SCOPES.into(),
            timeout: Duration::from_secs(300),
            form_exchange: false,
            extra: Vec::new(),
            basic_auth: false,
        },
        loopback,
        |u| open(&u),
    )
    .await?;
    with_token(http, instance, access).await
}

/// The actor URI of an Account entity: `uri` (Mastodon ≥ 4.2; kept as it is, so an
/// `…/ap/users/<id>` actor keeps its real id), else derived from the profile `url`.
pub fn actor_of_account(account: &Value) -> Option<String> {
    if let Some(uri) = account.get("uri").and_then(|v| v.as_str())
        && !uri.is_empty()
    {
        // Some servers (and mastodon-mock) put the profile URL `…/@name` in `uri`: map it
        // the same way as mention URLs so one person has one id.
        return Some(actor_of_profile_url(uri));
    }
    account
        .get("url")
        .and_then(|v| v.as_str())
        .map(actor_of_profile_url)
}

/// Mention entities carry only the profile URL. On Mastodon `https://host/@name` is the actor
/// `https://host/users/name`; other URLs are kept as they are. Only a guess for servers whose
/// actors live elsewhere (`/ap/users/<id>`): the accounts looked up by id are preferred.
pub fn actor_of_profile_url(url: &str) -> String {
    if let Ok(u) = url::Url::parse(url) {
        let path = u.path();
        if let Some(name) = path.strip_prefix("/@")
            && !name.is_empty()
            && !name.contains('/')
            && !name.contains('@')
        {
            return format!("{}://{}/users/{name}", u.scheme(), host_of(&u));
        }
    }
    url.to_string()
}

/// Fetches statuses, favourites and mentions of the logged-in account into `store`, looks up
/// the accounts its replies and mentions name, then rebuilds its activity table.
async fn fetch(
    http: &Http,
    creds: &Credentials,
    store: &AccountStore,
    options: &FetchOptions,
    progress: &Progress,
) -> Result<Vec<String>, FetchError> {
    let base = creds.server.trim_end_matches('/').to_string();
    let hint = format!("Run `rapport login mastodon --instance {base}` again (or with --token).");
    let mut notes = Vec::new();
    let mut state = store.load_state()?;
    let url = join(&base, "/api/v1/accounts/verify_credentials");
    let me = http
        .send(|c| c.get(&url).bearer_auth(creds.access_token.expose()))
        .await?
        .ok("mastodon", &hint)?;
    let me = me.json()?;
    let id = me
        .get("id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| FetchError::Protocol {
            url: url.clone(),
            message: "verify_credentials has no id".into(),
        })?
        .to_string();
    state.owner = options
        .me
        .clone()
        .or_else(|| actor_of_account(me))
        .or_else(|| creds.owner.clone());
    state.server = Some(base.clone());
    state.meta.insert("account_id".into(), id.clone());
    store.save_state(&state)?;

    let walk = Walk {
        http,
        creds,
        store,
        options,
        progress,
        hint: &hint,
    };
    let statuses = join(&base, &format!("/api/v1/accounts/{id}/statuses"));
    walk.endpoint(&mut state, STATUSES, &statuses, &[], &mut notes)
        .await?;
    let favourites = join(&base, "/api/v1/favourites");
    walk.endpoint(&mut state, FAVOURITES, &favourites, &[], &mut notes)
        .await?;
    let notifications = join(&base, "/api/v1/notifications");
    walk.endpoint(
        &mut state,
        MENTIONS,
        &notifications,
        &[("types[]", "mention")],
        &mut notes,
    )
    .await?;

    lookup_accounts(http, creds, store, &mut state, &base, &hint, &mut notes).await?;

    let activities = normalize(&state, &Pages::read(store, &state)?);
    store.write_activities(&activities)?;
    state.last_fetch = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    store.save_state(&state)?;
    Ok(notes)
}

/// The paging state of one endpoint (stored as JSON in `state.json`).
#[derive(Debug, Default, Clone, PartialEq)]
struct Cursor {
    /// Where forward fetches start (`min_id`): the `Link: rel="prev"` value of the newest page.
    newest: Option<String>,
    /// Where the backfill continues (`max_id`).
    backfill_max_id: Option<String>,
    /// The backfill reached the oldest item (or `--since`).
    backfill_done: bool,
}

impl Cursor {
    fn from(v: &Value) -> Cursor {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
        Cursor {
            newest: s("newest"),
            backfill_max_id: s("backfill_max_id"),
            backfill_done: v.get("backfill_done").and_then(|x| x.as_bool()) == Some(true),
        }
    }
    fn to_json(&self) -> Value {
        json!({
            "newest": self.newest,
            "backfill_max_id": self.backfill_max_id,
            "backfill_done": self.backfill_done,
        })
    }
}

/// The larger of two cursors (ids compare as numbers).
fn newer(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if id_cmp(&a, &b).is_ge() { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The newest position of a page: its `Link: rel="prev"` `min_id` (opaque, e.g. a favourite's
/// own id), else its largest item id.
fn page_newest(resp: &super::Response, items: &[Value]) -> Option<String> {
    link_param(&resp.headers, "prev", "min_id").or_else(|| {
        items
            .iter()
            .filter_map(|i| i.get("id").and_then(|v| v.as_str()))
            .max_by(|a, b| id_cmp(a, b))
            .map(String::from)
    })
}

struct Walk<'a> {
    http: &'a Http,
    creds: &'a Credentials,
    store: &'a AccountStore,
    options: &'a FetchOptions,
    progress: &'a Progress,
    hint: &'a str,
}

impl Walk<'_> {
    async fn get(&self, url: &str, query: &[(&str, &str)]) -> Result<super::Response, FetchError> {
        self.http
            .send(|c| {
                c.get(url)
                    .query(query)
                    .bearer_auth(self.creds.access_token.expose())
            })
            .await?
            .ok("mastodon", self.hint)
    }

    async fn endpoint(
        &self,
        state: &mut AccountState,
        endpoint: &str,
        url: &str,
        extra: &[(&str, &str)],
        notes: &mut Vec<String>,
    ) -> Result<(), FetchError> {
        match self.pages(state, endpoint, url, extra, notes).await {
            // A token without the scope of an extra endpoint (favourites, for a token made
            // before rapport asked for it), or a server without it: a note, not a failure.
            Err(FetchError::Auth { .. } | FetchError::Http { status: 404, .. })
                if endpoint == FAVOURITES =>
            {
                notes.push(format!(
                    "{url}: favourites could not be read (the token may lack the read:favourites scope; log in again to include them)"
                ));
                Ok(())
            }
            other => other,
        }
    }

    async fn pages(
        &self,
        state: &mut AccountState,
        endpoint: &str,
        url: &str,
        extra: &[(&str, &str)],
        notes: &mut Vec<String>,
    ) -> Result<(), FetchError> {
        let mut cursor = Cursor::from(
            &state
                .endpoints
                .get(endpoint)
                .map(|e| e.cursor.clone())
                .unwrap_or(Value::Null),
        );
        let mut guard = PageGuard::new(endpoint, self.options.max_pages);
        let backfilling = !cursor.backfill_done;
        // Backfill: newest → oldest.
        while !cursor.backfill_done {
            let max = cursor.backfill_max_id.clone();
            if let Err(note) = guard.admit(max.as_deref()) {
                notes.push(note);
                return Ok(());
            }
            let mut query: Vec<(&str, &str)> = vec![("limit", LIMIT)];
            query.extend_from_slice(extra);
            if let Some(m) = &max {
                query.push(("max_id", m));
            }
            let resp = self.get(url, &query).await?;
            let items = page_items(&resp)?;
            let next = link_param(&resp.headers, "next", "max_id").or_else(|| {
                items
                    .iter()
                    .filter_map(|i| i.get("id").and_then(|v| v.as_str()))
                    .min_by(|a, b| id_cmp(a, b))
                    .map(String::from)
            });
            let reached_since = self.options.since.is_some_and(|s| {
                items
                    .iter()
                    .filter_map(|i| i.get("created_at").and_then(|v| v.as_str()))
                    .filter_map(parse_time)
                    .any(|t| t < s)
            });
            // The next page must be older than this one: a max_id that does not go down
            // would page for ever.
            let stuck = match (&next, &max) {
                (Some(n), Some(m)) => id_cmp(n, m).is_ge(),
                _ => false,
            };
            if stuck && let Some(n) = &next {
                notes.push(guard.stuck(n));
            }
            let done = items.is_empty() || next.is_none() || reached_since || stuck;
            let new = Cursor {
                newest: newer(cursor.newest.clone(), page_newest(&resp, items)),
                backfill_max_id: if done { None } else { next },
                backfill_done: done,
            };
            self.store.store_page(
                state,
                endpoint,
                &resp.body,
                items.len() as u64,
                new.to_json(),
            )?;
            self.progress.page(endpoint, items.len() as u64);
            cursor = new;
        }
        if backfilling {
            // Items posted during the backfill are picked up by the next fetch's forward walk.
            return Ok(());
        }
        // Forward: everything newer than the newest stored item.
        loop {
            let newest = cursor.newest.clone();
            if let Err(note) = guard.admit(newest.as_deref()) {
                notes.push(note);
                return Ok(());
            }
            let mut query: Vec<(&str, &str)> = vec![("limit", LIMIT)];
            query.extend_from_slice(extra);
            if let Some(n) = &newest {
                query.push(("min_id", n));
            }
            let resp = self.get(url, &query).await?;
            let items = page_items(&resp)?;
            if items.is_empty() {
                return Ok(());
            }
            let new = Cursor {
                newest: newer(cursor.newest.clone(), page_newest(&resp, items)),
                ..cursor.clone()
            };
            let stuck = new.newest == newest;
            self.store.store_page(
                state,
                endpoint,
                &resp.body,
                items.len() as u64,
                new.to_json(),
            )?;
            self.progress.page(endpoint, items.len() as u64);
            cursor = new;
            if stuck || newest.is_none() {
                // A server that ignores min_id would page forever; one page is enough then.
                return Ok(());
            }
        }
    }
}

fn page_items(resp: &super::Response) -> Result<&[Value], FetchError> {
    resp.json()?
        .as_array()
        .map(|v| v.as_slice())
        .ok_or_else(|| FetchError::Protocol {
            url: resp.url.clone(),
            message: "expected a JSON array".into(),
        })
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty())
}

/// Looks up, once each, the accounts that replies and mentions name by id and that no stored
/// page describes yet (their actor URI is the counterpart id; a mention's profile URL is only
/// a guess). A server that does not answer a lookup leaves that guess, with a note.
async fn lookup_accounts(
    http: &Http,
    creds: &Credentials,
    store: &AccountStore,
    state: &mut AccountState,
    base: &str,
    hint: &str,
    notes: &mut Vec<String>,
) -> Result<(), FetchError> {
    let pages = Pages::read(store, state)?;
    let known = pages.known_accounts();
    let owner_id = state.meta.get("account_id").cloned().unwrap_or_default();
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for s in pages.statuses() {
        if let Some(a) = str_of(s, "in_reply_to_account_id") {
            wanted.insert(a.to_string());
        }
        let direct = str_of(s, "visibility") == Some("direct");
        let top_level = str_of(s, "in_reply_to_id").is_none();
        let boost = s.get("reblog").is_some_and(|r| r.is_object());
        // Direct recipients, and the people a leading run of mentions may name.
        let addressed = direct
            || (top_level
                && !boost
                && str_of(s, "content").is_some_and(|c| !leading_tokens(c).is_empty()));
        if addressed {
            for m in mentions_of(s) {
                wanted.insert(m.id);
            }
        }
    }
    wanted.retain(|id| !id.is_empty() && *id != owner_id && !known.contains_key(id));
    let mut missing = 0u64;
    for id in wanted {
        let url = join(base, &format!("/api/v1/accounts/{id}"));
        let resp = http
            .send(|c| c.get(&url).bearer_auth(creds.access_token.expose()))
            .await?;
        if matches!(resp.status, 401 | 403) {
            return Err(resp.ok("mastodon", hint).err().unwrap_or(FetchError::Auth {
                platform: "mastodon".into(),
                message: hint.to_string(),
            }));
        }
        if resp.status == 200 && resp.json.as_ref().is_some_and(|j| j.is_object()) {
            store.store_page(state, ACCOUNTS, &resp.body, 1, Value::Null)?;
        } else {
            missing += 1;
        }
    }
    if missing > 0 {
        notes.push(format!(
            "{base}: {missing} account(s) could not be looked up; they are named by their profile URL"
        ));
    }
    Ok(())
}

/// A mention of a status: account id, profile URL, `acct`.
struct MentionRef {
    id: String,
    url: String,
    acct: String,
}

/// The status's mentions, in their order (the leading run's order for top-level posts).
fn mentions_of(s: &Value) -> Vec<MentionRef> {
    s.get("mentions")
        .and_then(|m| m.as_array())
        .map(|ms| {
            ms.iter()
                .filter_map(|m| {
                    Some(MentionRef {
                        id: str_of(m, "id").unwrap_or("").to_string(),
                        url: str_of(m, "url")?.to_string(),
                        acct: str_of(m, "acct")
                            .or_else(|| str_of(m, "username"))
                            .unwrap_or("")
                            .to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The stored pages of an account, parsed.
pub struct Pages {
    statuses: Vec<Value>,
    mentions: Vec<Value>,
    favourites: Vec<Value>,
    accounts: Vec<Value>,
}

impl Pages {
    /// Reads every stored page.
    pub fn read(store: &AccountStore, state: &AccountState) -> Result<Pages, FetchError> {
        Ok(Pages {
            statuses: items(&store.pages(state, STATUSES)?),
            mentions: items(&store.pages(state, MENTIONS)?),
            favourites: items(&store.pages(state, FAVOURITES)?),
            accounts: store
                .json_pages(state, ACCOUNTS)?
                .into_iter()
                .filter(|v| v.is_object())
                .collect(),
        })
    }

    /// From raw page bodies (tests).
    pub fn from_bodies(
        statuses: &[Vec<u8>],
        mentions: &[Vec<u8>],
        favourites: &[Vec<u8>],
        accounts: &[Vec<u8>],
    ) -> Pages {
        Pages {
            statuses: items(statuses),
            mentions: items(mentions),
            favourites: items(favourites),
            accounts: accounts
                .iter()
                .filter_map(|p| serde_json::from_slice::<Value>(p).ok())
                .collect(),
        }
    }

    fn statuses(&self) -> impl Iterator<Item = &Value> {
        self.statuses.iter()
    }

    /// Account id → actor URI, from looked-up accounts and every account entity the pages
    /// carry in full (notification senders, status authors, reblogged authors).
    fn known_accounts(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        let mut add = |a: &Value| {
            if let (Some(id), Some(actor)) = (str_of(a, "id"), actor_of_account(a))
                && (str_of(a, "uri").is_some() || !out.contains_key(id))
            {
                out.insert(id.to_string(), actor);
            }
        };
        for s in self.statuses.iter().chain(&self.favourites) {
            if let Some(a) = s.get("account") {
                add(a);
            }
            if let Some(a) = s.get("reblog").and_then(|r| r.get("account")) {
                add(a);
            }
        }
        for n in &self.mentions {
            if let Some(a) = n.get("account") {
                add(a);
            }
            if let Some(a) = n.get("status").and_then(|s| s.get("account")) {
                add(a);
            }
        }
        for a in &self.accounts {
            add(a);
        }
        out
    }
}

/// The items of every page, de-duplicated by id (a later page holds the fresher copy of an
/// edited status), oldest id first.
fn items(pages: &[Vec<u8>]) -> Vec<Value> {
    let mut by_id: HashMap<String, Value> = HashMap::new();
    for page in pages {
        if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(page) {
            for item in items {
                if let Some(id) = str_of(&item, "id") {
                    by_id.insert(id.to_string(), item);
                }
            }
        }
    }
    let mut v: Vec<Value> = by_id.into_values().collect();
    v.sort_by(|a, b| id_cmp(str_of(a, "id").unwrap_or(""), str_of(b, "id").unwrap_or("")));
    v
}

/// Turns stored pages into activities (pure: the same pages give the same table), every
/// status through the archive's rules.
pub fn normalize(state: &AccountState, pages: &Pages) -> Vec<Activity> {
    let owner_id = state.meta.get("account_id").cloned().unwrap_or_default();
    let owner = state.owner.clone().unwrap_or_default();
    let server = state.server.clone().unwrap_or_default();
    let accounts = pages.known_accounts();
    let actor = |id: &str, url: &str| -> String {
        accounts
            .get(id)
            .cloned()
            .unwrap_or_else(|| actor_of_profile_url(url))
    };
    let uri_of = |s: &Value| -> String {
        str_of(s, "uri")
            .map(String::from)
            .unwrap_or_else(|| format!("{server}/statuses/{}", str_of(s, "id").unwrap_or("")))
    };
    let own_uris: HashMap<&str, String> = pages
        .statuses
        .iter()
        .filter_map(|s| str_of(s, "id").map(|id| (id, uri_of(s))))
        .collect();
    let source_out: Source = Source::from("mastodon API: account statuses");
    let source_fav: Source = Source::from("mastodon API: favourites");
    let source_in: Source = Source::from("mastodon API: mention notifications");
    let mut people = Interner::default();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (seq, s) in pages.statuses.iter().enumerate() {
        let id = uri_of(s);
        if !seen.insert(id.clone()) {
            continue;
        }
        let mentions: Vec<(String, String)> = mentions_of(s)
            .into_iter()
            .map(|m| (actor(&m.id, &m.url), format!("@{}", m.acct)))
            .collect();
        let boost = s.get("reblog").is_some_and(|r| r.is_object());
        let direct = str_of(s, "visibility") == Some("direct");
        let parent_id = str_of(s, "in_reply_to_id");
        let parent_account = str_of(s, "in_reply_to_account_id");
        let private_to: Option<Vec<String>> = direct.then(|| {
            mentions
                .iter()
                .map(|(a, _)| a.clone())
                .filter(|a| *a != owner)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        });
        let conversation = private_to
            .as_ref()
            .map(|to| conversation_key(&owner, to.iter().map(String::as_str)));
        let facts = StatusFacts {
            id,
            at: str_of(s, "created_at").and_then(parse_time),
            seq: seq as u64,
            boost,
            parent: parent_id.map(|p| {
                own_uris
                    .get(p)
                    .cloned()
                    .unwrap_or_else(|| format!("mastodon-status:{p}"))
            }),
            parent_own: parent_account == Some(owner_id.as_str()),
            parent_author: parent_account.filter(|a| *a != owner_id).and_then(|a| {
                accounts.get(a).cloned().or_else(|| {
                    mentions_of(s)
                        .into_iter()
                        .find(|m| m.id == a)
                        .map(|m| actor_of_profile_url(&m.url))
                })
            }),
            private_to,
            conversation,
            leading: if parent_id.is_none() && !boost && !direct {
                str_of(s, "content").map(leading_tokens).unwrap_or_default()
            } else {
                Vec::new()
            },
            mentions,
        };
        out.push(status_activity(
            facts,
            Some(owner.as_str()).filter(|o| !o.is_empty()),
            &mut people,
            &source_out,
        ));
    }
    // Favourites: passive and undated, like the archive's likes.json (`like:<status URI>`).
    for (seq, s) in pages.favourites.iter().enumerate() {
        let id = format!("like:{}", uri_of(s));
        if !seen.insert(id.clone()) {
            continue;
        }
        let mut a = Activity::new(
            Platform::Mastodon,
            id,
            None,
            Direction::Out,
            Kind::Reaction,
            source_fav.clone(),
        );
        a.hints.seq = (pages.statuses.len() + seq) as u64;
        out.push(a);
    }
    for (seq, n) in pages.mentions.iter().enumerate() {
        let Some(s) = n.get("status").filter(|s| s.is_object()) else {
            continue;
        };
        let sender = n
            .get("account")
            .and_then(actor_of_account)
            .or_else(|| s.get("account").and_then(actor_of_account));
        let Some(sender) = sender else { continue };
        if sender == owner {
            continue;
        }
        let id = uri_of(s);
        if !seen.insert(id.clone()) {
            continue;
        }
        let at = str_of(s, "created_at")
            .or_else(|| str_of(n, "created_at"))
            .and_then(parse_time);
        let direct = str_of(s, "visibility") == Some("direct");
        let kind = if direct {
            Kind::Message
        } else if str_of(s, "in_reply_to_id").is_some() {
            Kind::Reply
        } else {
            Kind::Post
        };
        let mut a = Activity::new(
            Platform::Mastodon,
            id,
            at,
            Direction::In,
            kind,
            source_in.clone(),
        );
        a.counterparts = vec![people.get(&sender)].into();
        if direct {
            let others: BTreeSet<String> = mentions_of(s)
                .into_iter()
                .map(|m| actor(&m.id, &m.url))
                .chain([sender.clone()])
                .filter(|p| *p != owner)
                .collect();
            a.set_participants(Some(others.len() as u32 + 1));
            let key = conversation_key(&owner, others.iter().map(|p| p.as_str()));
            a.conversation = Some(people.name(&key));
        }
        a.hints.seq = (pages.statuses.len() + pages.favourites.len() + seq) as u64;
        out.push(a);
    }
    out
}

/// The API gives a status no conversation id: a private conversation is its set of people.
fn conversation_key<'a>(owner: &str, others: impl Iterator<Item = &'a str>) -> String {
    let mut people: BTreeSet<&str> = others.collect();
    people.insert(owner);
    format!(
        "mastodon-dm:{}",
        people.into_iter().collect::<Vec<_>>().join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn actor_uris() {
        assert_eq!(
            actor_of_profile_url("https://o.example/@sam"),
            "https://o.example/users/sam"
        );
        assert_eq!(
            actor_of_profile_url("https://pl.example/users/x"),
            "https://pl.example/users/x"
        );
        // An account whose actor lives under /ap/users/ keeps it.
        let a = json!({"id": "9", "url": "https://n.example/@zed", "uri": "https://n.example/ap/users/9"});
        assert_eq!(
            actor_of_account(&a).as_deref(),
            Some("https://n.example/ap/users/9")
        );
    }

    fn state() -> AccountState {
        let mut state = AccountState {
            owner: Some("https://h/users/me".into()),
            server: Some("https://h".into()),
            ..AccountState::default()
        };
        state.meta.insert("account_id".into(), "1".into());
        state
    }

    fn body(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap_or_default()
    }

    #[test]
    fn statuses_become_activities() {
        let page = json!([
            {"id": "10", "uri": "https://h/users/me/statuses/10", "created_at": "2024-03-02T09:00:00Z",
             "visibility": "public", "content": "<p>hello</p>", "mentions": [], "reblog": null},
            {"id": "11", "uri": "https://h/users/me/statuses/11", "created_at": "2024-03-02T10:00:00Z",
             "visibility": "public", "in_reply_to_id": "10", "in_reply_to_account_id": "1", "mentions": []},
            {"id": "12", "uri": "https://h/users/me/statuses/12", "created_at": "2024-03-03T10:00:00Z",
             "visibility": "public", "in_reply_to_id": "999", "in_reply_to_account_id": "7",
             "mentions": [{"id": "7", "url": "https://o/@sam", "acct": "sam@o"}]},
            {"id": "13", "uri": "https://h/users/me/statuses/13/activity", "created_at": "2024-03-04T10:00:00Z",
             "visibility": "public", "reblog": {"id": "5"}},
            {"id": "14", "uri": "https://h/users/me/statuses/14", "created_at": "2024-03-05T10:00:00Z",
             "visibility": "direct", "mentions": [{"id": "7", "url": "https://o/@sam"}]}
        ]);
        let notes = json!([
            {"id": "50", "type": "mention", "created_at": "2024-03-05T11:00:00Z",
             "account": {"id": "7", "url": "https://o/@sam", "uri": "https://o/users/sam"},
             "status": {"id": "77", "uri": "https://o/users/sam/statuses/77", "created_at": "2024-03-05T11:00:00Z",
                        "visibility": "direct", "mentions": [{"id": "1", "url": "https://h/@me"}]}}
        ]);
        let favs = json!([{"id": "88", "uri": "https://o/users/sam/statuses/88"}]);
        let v = normalize(
            &state(),
            &Pages::from_bodies(&[body(&page)], &[body(&notes)], &[body(&favs)], &[]),
        );
        let kinds: Vec<Kind> = v.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Post,
                Kind::Reply,
                Kind::Reply,
                Kind::Repost,
                Kind::Message,
                Kind::Reaction,
                Kind::Message
            ]
        );
        assert_eq!(v[1].hints.parent(), Some("https://h/users/me/statuses/10"));
        assert!(v[1].hints.parent_is_owner);
        assert_eq!(v[2].hints.parent_author(), Some("https://o/users/sam"));
        assert_eq!(v[4].participants(), Some(2));
        assert_eq!(&*v[5].id, "like:https://o/users/sam/statuses/88");
        assert_eq!(v[5].at(), None);
        assert_eq!(v[6].direction, Direction::In);
        assert_eq!(v[4].conversation, v[6].conversation);
    }

    #[test]
    fn reply_without_the_parent_authors_mention_keeps_its_counterpart() {
        // The reply mentions nobody; the parent's author comes from the looked-up account.
        let page = json!([
            {"id": "20", "uri": "https://h/users/me/statuses/20", "created_at": "2024-03-02T09:00:00Z",
             "visibility": "public", "in_reply_to_id": "300", "in_reply_to_account_id": "9",
             "content": "<p>thanks!</p>", "mentions": []}
        ]);
        let account = json!({"id": "9", "url": "https://n.example/@zed", "uri": "https://n.example/ap/users/9"});
        let v = normalize(
            &state(),
            &Pages::from_bodies(&[body(&page)], &[], &[], &[body(&account)]),
        );
        assert_eq!(
            *v[0].counterparts,
            vec![Arc::<str>::from("https://n.example/ap/users/9")]
        );
    }

    #[test]
    fn leading_run_only_names_the_people_it_addresses() {
        // One leading mention; a second person is mentioned later in the text.
        let page = json!([
            {"id": "30", "uri": "https://h/users/me/statuses/30", "created_at": "2024-03-02T09:00:00Z",
             "visibility": "public",
             "content": "<p><span class=\"h-card\"><a href=\"https://o/@sam\">@<span>sam</span></a></span> ask <span class=\"h-card\"><a href=\"https://o/@kim\">@<span>kim</span></a></span><br>about it</p>",
             "mentions": [{"id": "7", "url": "https://o/@sam", "acct": "sam@o"}, {"id": "8", "url": "https://o/@kim", "acct": "kim@o"}]}
        ]);
        let v = normalize(&state(), &Pages::from_bodies(&[body(&page)], &[], &[], &[]));
        assert_eq!(v[0].hints.leading_mentions, Some(1));
        assert_eq!(
            *v[0].counterparts,
            vec![Arc::<str>::from("https://o/users/sam")]
        );
    }
}
