//! X API v2 → raw pages in the store + Activities: the login (OAuth 2.0 authorization code with
//! PKCE for the user's own public client, refresh tokens used and rotated; or a bearer token),
//! `/2/users/me`, the user's tweets, the mentions of the user (received, `in`) and the DM events,
//! paged by `pagination_token`, increments by `since_id` (DM events: read from the top until a
//! stored event). Tweets and messages are mapped by the archive importer's rules
//! (`sources::x::rules`, `sources::x::dms`), so a fetch and an archive of one account count the
//! same — and, sharing tweet and message ids, merge without double counting. Must not classify
//! modes or use Polars.

use std::time::Duration;

use serde_json::Value;

use super::auth::{CodeFlow, Credentials, Loopback, code_flow, refresh_login};
use super::pages::{Forward, Listing, PageFacts, Walk, data_items};
use super::{
    Context, FetchFuture, FetchOptions, Fetcher, Http, LoginArgs, Progress, Response, join,
    parse_time,
};
use crate::config::OAuthApp;
use crate::error::FetchError;
use crate::model::{Activity, Direction, Interner, Kind, Platform, Secret};
use crate::sources::Collected;
use crate::sources::x::dms::{DmRow, DmStore, push_dms};
use crate::sources::x::rules::{MentionFact, TweetFacts, is_user_id, tweet_activity};
use crate::store::{AccountState, AccountStore};

/// Store endpoints, in fetch order.
const TWEETS: &str = "tweets";
const MENTIONS: &str = "mentions";
const DM_EVENTS: &str = "dm_events";

/// Fields asked for every tweet (what the rules read).
const TWEET_FIELDS: &str =
    "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,entities,author_id";
const EXPANSIONS: &str = "referenced_tweets.id,referenced_tweets.id.author_id";
const DM_FIELDS: &str =
    "id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids";

/// The X API client.
pub struct XApi;

impl Fetcher for XApi {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn login<'a>(
        &'a self,
        ctx: &'a Context<'a>,
        args: &'a LoginArgs<'a>,
    ) -> FetchFuture<'a, Credentials> {
        Box::pin(async move {
            let app = &ctx.api.x;
            let base = base(app);
            let (access, refresh) = match &args.token {
                Some(t) => (t.clone(), None),
                None => oauth(ctx.http, app, args.open).await?,
            };
            let (id, username) = me(ctx.http, &base, &access).await?;
            let mut creds = Credentials::new(
                Platform::X,
                args.account.clone().unwrap_or(username),
                base,
                access,
            );
            creds.owner = Some(id);
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

fn base(app: &OAuthApp) -> String {
    app.api.trim().trim_end_matches('/').to_string()
}

fn login_hint() -> String {
    "Run `rapport login x` again (or `rapport login x --token -` with a bearer token).".into()
}

/// `rapport login x`: authorization code + PKCE (S256) with the user's own public client.
async fn oauth(
    http: &Http,
    app: &OAuthApp,
    open: &dyn Fn(&str),
) -> Result<(Secret, Option<Secret>), FetchError> {
    let client_id = app.client_id.trim();
    if client_id.is_empty() {
        return Err(FetchError::Usage(
            "X login needs your own app's client id (a public client with OAuth 2.0 and the \
             redirect URL http://127.0.0.1:<port>/callback): set RAPPORT_X_CLIENT_ID and \
             RAPPORT_X_REDIRECT_PORT (or api.x.client_id and api.x.redirect_port); see README \
             \"Fetch from platform APIs\". Or pass a bearer token with --token."
                .into(),
        ));
    }
    let loopback = Loopback::bind_port(app.redirect_port).await?;
    code_flow(
        http,
        CodeFlow {
            platform: "x",
            authorize_url: app.authorize_url.trim().to_string(),
            token_url: app.token_url.trim().to_string(),
            client_id: client_id.to_string(),
            client_secret: (!app.client_secret.is_empty()).then(|| app.client_secret.clone()),
            scopes: app.scope.clone(),
            timeout: Duration::from_secs(300),
            form_exchange: true,
            extra: Vec::new(),
            basic_auth: false,
        },
        loopback,
        |u| open(&u),
    )
    .await
}

async fn get(
    http: &Http,
    url: &str,
    query: &[(&str, &str)],
    token: &Secret,
) -> Result<Response, FetchError> {
    http.send(|c| c.get(url).query(query).bearer_auth(token.expose()))
        .await
}

/// `/2/users/me`: the user's id and username.
async fn me(http: &Http, base: &str, token: &Secret) -> Result<(String, String), FetchError> {
    let url = join(base, "/2/users/me");
    user_of(&get(http, &url, &[], token).await?.ok("x", &login_hint())?)
}

/// The id and username of a `users/me` answer.
fn user_of(resp: &Response) -> Result<(String, String), FetchError> {
    let data = resp.json()?.get("data");
    let field = |k: &str| {
        data.and_then(|d| d.get(k))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    match (field("id").filter(|i| is_user_id(i)), field("username")) {
        (Some(id), Some(name)) => Ok((id, name)),
        _ => Err(FetchError::Protocol {
            url: resp.url.clone(),
            message: "users/me has no data.id and data.username".into(),
        }),
    }
}

/// The stored login, refreshed (and saved, with the rotated refresh token) when X rejects the
/// access token; the user's id.
async fn session(
    ctx: &Context<'_>,
    creds: &Credentials,
) -> Result<(Credentials, String), FetchError> {
    let base = creds.server.clone();
    let url = join(&base, "/2/users/me");
    let resp = get(ctx.http, &url, &[], &creds.access_token).await?;
    if resp.status != 401 {
        let (id, _) = user_of(&resp.ok("x", &login_hint())?)?;
        return Ok((creds.clone(), id));
    }
    let message = format!(
        "X rejected the stored login and it could not be refreshed. {}",
        login_hint()
    );
    let fresh = refresh_login(ctx.http, &ctx.api.x, creds, false, message).await?;
    let (id, _) = me(ctx.http, &base, &fresh.access_token).await?;
    Ok((fresh, id))
}

/// One listing of the X API.
struct XListing<'a> {
    http: &'a Http,
    token: &'a Secret,
    endpoint: &'static str,
    url: String,
    query: Vec<(&'static str, String)>,
    forward: Forward,
}

impl Listing for XListing<'_> {
    fn endpoint(&self) -> &str {
        self.endpoint
    }

    fn forward(&self) -> Forward {
        self.forward
    }

    fn get<'a>(
        &'a self,
        cursor: Option<&'a str>,
        newer_than: Option<&'a str>,
    ) -> FetchFuture<'a, Response> {
        Box::pin(async move {
            let mut query: Vec<(&str, &str)> =
                self.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if let Some(c) = cursor {
                query.push(("pagination_token", c));
            }
            if let Some(n) = newer_than {
                query.push(("since_id", n));
            }
            get(self.http, &self.url, &query, self.token)
                .await?
                .ok("x", &login_hint())
        })
    }

    fn facts(&self, resp: &Response) -> Result<PageFacts, FetchError> {
        let page = resp.json()?;
        let data: &[Value] = match page.get("data") {
            None | Some(Value::Null) => &[],
            Some(Value::Array(a)) => a,
            Some(_) => {
                return Err(FetchError::Protocol {
                    url: resp.url.clone(),
                    message: "data is not a list".into(),
                });
            }
        };
        let meta = page.get("meta");
        let s = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        let id = |v: &Value| v.get("id").and_then(|i| i.as_str()).map(String::from);
        Ok(PageFacts {
            items: data.len() as u64,
            next: s("next_token"),
            newest: s("newest_id").or_else(|| data.first().and_then(id)),
            oldest: s("oldest_id").or_else(|| data.last().and_then(id)),
            oldest_at: data
                .iter()
                .filter_map(|t| t.get("created_at").and_then(|v| v.as_str()))
                .filter_map(parse_time)
                .min(),
        })
    }
}

/// Fetches what is new for the logged-in user and rebuilds the activity table.
async fn fetch(
    ctx: &Context<'_>,
    creds: &Credentials,
    store: &AccountStore,
    options: &FetchOptions,
    progress: &Progress,
) -> Result<Vec<String>, FetchError> {
    let (creds, id) = session(ctx, creds).await?;
    let mut notes = Vec::new();
    let mut state = store.load_state()?;
    state.owner = Some(id.clone());
    state.server = Some(creds.server.clone());
    store.save_state(&state)?;
    let first_fetch = state.last_fetch.is_none();
    let timeline = |endpoint: &'static str, path: String| XListing {
        http: ctx.http,
        token: &creds.access_token,
        endpoint,
        url: join(&creds.server, &path),
        query: vec![
            ("max_results", "100".into()),
            ("tweet.fields", TWEET_FIELDS.into()),
            ("expansions", EXPANSIONS.into()),
        ],
        forward: Forward::Since,
    };
    let walk = Walk {
        store,
        options,
        progress,
    };
    walk.run(
        &timeline(TWEETS, format!("/2/users/{id}/tweets")),
        &mut state,
        &mut notes,
    )
    .await?;
    let optional = [
        (
            timeline(MENTIONS, format!("/2/users/{id}/mentions")),
            "mentions",
        ),
        (
            XListing {
                http: ctx.http,
                token: &creds.access_token,
                endpoint: DM_EVENTS,
                url: join(&creds.server, "/2/dm_events"),
                query: vec![
                    ("max_results", "100".into()),
                    ("dm_event.fields", DM_FIELDS.into()),
                    (
                        "event_types",
                        "MessageCreate,ParticipantsJoin,ParticipantsLeave".into(),
                    ),
                ],
                forward: Forward::FromTop,
            },
            "direct messages (the dm.read scope)",
        ),
    ];
    for (listing, what) in &optional {
        match walk.run(listing, &mut state, &mut notes).await {
            // An access tier or a token without the scope: a note, not a failure.
            Err(FetchError::Auth { message, .. }) if message.contains("HTTP 403") => {
                notes.push(format!(
                    "X refused to give your {what} (HTTP 403: your app's access tier or the token's scopes do not include them)"
                ));
            }
            other => other?,
        }
    }
    if first_fetch {
        notes.push(
            "X's API reaches only your 3,200 most recent posts (and 800 mentions): for older \
             history analyze your X archive too (`rapport analyze --export twitter.zip --account x:NAME`); \
             the same posts and messages carry the same ids and are counted once"
                .into(),
        );
    }
    let activities = normalize(&state, &pages_of(store, &state)?);
    store.write_activities(&activities)?;
    state.last_fetch = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    store.save_state(&state)?;
    Ok(notes)
}

/// The stored pages of each endpoint, parsed.
pub struct Pages {
    /// `tweets` pages.
    pub tweets: Vec<Value>,
    /// `mentions` pages.
    pub mentions: Vec<Value>,
    /// `dm_events` pages.
    pub dm_events: Vec<Value>,
}

fn pages_of(store: &AccountStore, state: &AccountState) -> Result<Pages, FetchError> {
    let read = |e: &str| store.json_pages(state, e);
    Ok(Pages {
        tweets: read(TWEETS)?,
        mentions: read(MENTIONS)?,
        dm_events: read(DM_EVENTS)?,
    })
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str())
}

/// What the rules read in an API v2 tweet.
fn facts(t: &Value) -> Option<TweetFacts<'_>> {
    let refs = t.get("referenced_tweets").and_then(|r| r.as_array());
    let referenced = |kind: &str| {
        refs.into_iter()
            .flatten()
            .find(|r| str_of(r, "type") == Some(kind))
            .and_then(|r| str_of(r, "id"))
    };
    let mentions = t
        .get("entities")
        .and_then(|e| e.get("mentions"))
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(MentionFact {
                handle: str_of(m, "username")?,
                id: str_of(m, "id"),
            })
        })
        .collect();
    Some(TweetFacts {
        id: str_of(t, "id")?,
        text: str_of(t, "text").unwrap_or(""),
        at: str_of(t, "created_at").and_then(parse_time),
        reply_status: referenced("replied_to"),
        reply_user: str_of(t, "in_reply_to_user_id"),
        retweet: referenced("retweeted").is_some(),
        mentions,
    })
}

/// The activities of an account's stored pages (a pure function of them): the user's tweets
/// by the archive's rules, mentions by others as received acts, DM events as the archive's
/// messages. Each id once.
pub fn normalize(state: &AccountState, pages: &Pages) -> Vec<Activity> {
    let owner = state.owner.as_deref();
    let mut people = Interner::default();
    let mut seen = std::collections::HashSet::new();
    let mut sink = Collected::default();
    let tweets_source: crate::model::Source = crate::model::Source::from("x API: users/:id/tweets");
    for (i, t) in data_items(&pages.tweets).enumerate() {
        let Some(f) = facts(t) else { continue };
        if !seen.insert(f.id.to_string()) {
            continue;
        }
        sink.activities.push(tweet_activity(
            &f,
            owner,
            &tweets_source,
            i as u64,
            &mut people,
        ));
    }
    let mentions_source: crate::model::Source =
        crate::model::Source::from("x API: users/:id/mentions");
    for t in data_items(&pages.mentions) {
        let (Some(id), Some(author)) = (str_of(t, "id"), str_of(t, "author_id")) else {
            continue;
        };
        // The owner's own posts come with the timeline.
        if Some(author) == owner || !seen.insert(id.to_string()) {
            continue;
        }
        let reply = str_of(t, "in_reply_to_user_id").is_some();
        let mut a = Activity::new(
            Platform::X,
            id.to_string(),
            str_of(t, "created_at").and_then(parse_time),
            Direction::In,
            if reply { Kind::Reply } else { Kind::Post },
            mentions_source.clone(),
        );
        if is_user_id(author) {
            a.counterparts = vec![people.get(author)].into();
        }
        sink.activities.push(a);
    }
    let mut dms = DmStore::default();
    let dm_source: crate::model::Source = crate::model::Source::from("x API: dm_events");
    for (seq, e) in data_items(&pages.dm_events).enumerate() {
        let Some(conv) = str_of(e, "dm_conversation_id") else {
            continue;
        };
        let conv = people.name(conv);
        let people_of = dms.people.entry(conv.clone()).or_default();
        // A one-to-one conversation names both people in its id (`<id>-<id>`).
        let pair: Vec<&str> = conv.split('-').collect();
        if pair.len() == 2 && pair.iter().all(|p| is_user_id(p)) {
            people_of.extend(pair.iter().map(|p| p.to_string()));
        }
        let sender = str_of(e, "sender_id").filter(|s| is_user_id(s));
        people_of.extend(sender.map(String::from));
        people_of.extend(
            e.get("participant_ids")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str())
                .filter(|p| is_user_id(p))
                .map(String::from),
        );
        if str_of(e, "event_type") != Some("MessageCreate") {
            continue;
        }
        let Some(id) = str_of(e, "id") else { continue };
        dms.rows.push(DmRow {
            id: id.to_string(),
            conversation: Some(conv),
            sender: sender.map(String::from),
            recipient: None,
            at: str_of(e, "created_at").and_then(parse_time),
            seq: seq as u64,
            source: dm_source.clone(),
        });
    }
    push_dms(dms, owner, &mut people, "x API: dm_events", &mut sink);
    sink.activities
}
