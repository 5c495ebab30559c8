//! Mastodon REST API → raw pages in the store + Activities: verify_credentials, the account's
//! statuses (direct ones included) and notifications of type mention (received → `in`).
//! Owns Mastodon paging and the API-field → hints mapping; must not classify modes, parse
//! exports or use Polars.
//!
//! Paging: a first fetch walks back in time with `max_id` taken from the `Link: rel="next"`
//! header until an empty page. Later fetches ask for `min_id=<newest id stored>` and move
//! forward (the `Link: rel="prev"` direction) until an empty page, so an unchanged account
//! costs one request per endpoint. The ids in `Link` are opaque: rapport only copies them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use super::auth::{Credentials, join};
use super::{Http, Progress, id_cmp, link_param, parse_time};
use crate::error::{Error, FetchError};
use crate::model::{Activity, Direction, Kind, Platform};
use crate::store::{AccountState, AccountStore};

/// Endpoint name of the account's statuses in the store.
pub const STATUSES: &str = "statuses";
/// Endpoint name of mention notifications in the store.
pub const MENTIONS: &str = "mentions";
/// Page size (Mastodon's maximum for these endpoints).
const LIMIT: &str = "40";

/// The actor URI of an Account entity: `uri` (Mastodon ≥ 4.2), else derived from `url`.
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
/// `https://host/users/name`; other URLs are kept as they are.
pub fn actor_of_profile_url(url: &str) -> String {
    if let Ok(u) = url::Url::parse(url) {
        let path = u.path();
        if let Some(name) = path.strip_prefix("/@")
            && !name.is_empty()
            && !name.contains('/')
            && !name.contains('@')
        {
            return format!("{}://{}/users/{name}", u.scheme(), super::auth::host_of(&u));
        }
    }
    url.to_string()
}

/// Fetches statuses and mentions of the logged-in account into `store`, then rebuilds its
/// activity table. `since` (epoch ms) stops the first backfill at that time.
pub async fn fetch(
    http: &Http,
    creds: &Credentials,
    store: &AccountStore,
    since: Option<i64>,
    progress: &Progress,
) -> Result<(), Error> {
    let base = creds.server.trim_end_matches('/').to_string();
    let hint = format!("Run `rapport login mastodon --instance {base}` again (or with --token).");
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
    state.owner = actor_of_account(me).or_else(|| creds.owner.clone());
    state.server = Some(base.clone());
    state.meta.insert("account_id".into(), id.clone());
    store.save_state(&state)?;

    let statuses = join(&base, &format!("/api/v1/accounts/{id}/statuses"));
    walk(
        http,
        creds,
        store,
        &mut state,
        STATUSES,
        &statuses,
        &[],
        since,
        progress,
        &hint,
    )
    .await?;
    let notifications = join(&base, "/api/v1/notifications");
    walk(
        http,
        creds,
        store,
        &mut state,
        MENTIONS,
        &notifications,
        &[("types[]", "mention")],
        since,
        progress,
        &hint,
    )
    .await?;

    let activities = normalize(
        &state,
        &store.pages(&state, STATUSES)?,
        &store.pages(&state, MENTIONS)?,
    );
    store.write_activities(&activities)?;
    state.last_fetch = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    store.save_state(&state)?;
    Ok(())
}

/// The paging state of one endpoint (stored as JSON in `state.json`).
#[derive(Debug, Default, Clone, PartialEq)]
struct Cursor {
    /// Newest item id stored (where forward fetches start).
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

fn max_id<'a>(items: &'a [Value], current: Option<&'a str>) -> Option<String> {
    items
        .iter()
        .filter_map(|i| i.get("id").and_then(|v| v.as_str()))
        .chain(current)
        .max_by(|a, b| id_cmp(a, b))
        .map(String::from)
}

#[allow(clippy::too_many_arguments)]
async fn walk(
    http: &Http,
    creds: &Credentials,
    store: &AccountStore,
    state: &mut AccountState,
    endpoint: &str,
    url: &str,
    extra: &[(&str, &str)],
    since: Option<i64>,
    progress: &Progress,
    hint: &str,
) -> Result<(), Error> {
    let mut cursor = Cursor::from(
        &state
            .endpoints
            .get(endpoint)
            .map(|e| e.cursor.clone())
            .unwrap_or(Value::Null),
    );
    let backfilling = !cursor.backfill_done;
    // Backfill: newest → oldest.
    while !cursor.backfill_done {
        let mut query: Vec<(&str, &str)> = vec![("limit", LIMIT)];
        query.extend_from_slice(extra);
        let max = cursor.backfill_max_id.clone();
        if let Some(m) = &max {
            query.push(("max_id", m));
        }
        let resp = http
            .send(|c| {
                c.get(url)
                    .query(&query)
                    .bearer_auth(creds.access_token.expose())
            })
            .await?
            .ok("mastodon", hint)?;
        let items = page_items(&resp)?;
        let next = link_param(&resp.headers, "next", "max_id").or_else(|| {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(|v| v.as_str()))
                .min_by(|a, b| id_cmp(a, b))
                .map(String::from)
        });
        let reached_since = since.is_some_and(|s| {
            items
                .iter()
                .filter_map(|i| i.get("created_at").and_then(|v| v.as_str()))
                .filter_map(parse_time)
                .any(|t| t < s)
        });
        let done = items.is_empty() || next.is_none() || next == max || reached_since;
        let new = Cursor {
            newest: max_id(items, cursor.newest.as_deref()),
            backfill_max_id: if done { None } else { next },
            backfill_done: done,
        };
        store.store_page(
            state,
            endpoint,
            &resp.body,
            items.len() as u64,
            new.to_json(),
        )?;
        progress.page(endpoint, items.len() as u64);
        cursor = new;
    }
    if backfilling {
        // Items posted during the backfill are picked up by the next fetch's forward walk.
        return Ok(());
    }
    // Forward: everything newer than the newest stored item.
    loop {
        let mut query: Vec<(&str, &str)> = vec![("limit", LIMIT)];
        query.extend_from_slice(extra);
        let newest = cursor.newest.clone();
        if let Some(n) = &newest {
            query.push(("min_id", n));
        }
        let resp = http
            .send(|c| {
                c.get(url)
                    .query(&query)
                    .bearer_auth(creds.access_token.expose())
            })
            .await?
            .ok("mastodon", hint)?;
        let items = page_items(&resp)?;
        if items.is_empty() {
            return Ok(());
        }
        let new = Cursor {
            newest: max_id(items, cursor.newest.as_deref()),
            ..cursor.clone()
        };
        let stuck = new.newest == newest;
        store.store_page(
            state,
            endpoint,
            &resp.body,
            items.len() as u64,
            new.to_json(),
        )?;
        progress.page(endpoint, items.len() as u64);
        cursor = new;
        if stuck || newest.is_none() {
            // A server that ignores min_id would page forever; one page is enough then.
            return Ok(());
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

/// Strips tags and decodes the few entities Mastodon emits, for the leading-mention test.
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

/// Accounts in the leading run of `@mentions` of a status text (`None` when it does not start
/// with one; `.@name` is a public mention, not an address).
pub fn leading_mentions(html: &str) -> Option<u32> {
    let text = html_text(html);
    let mut n = 0u32;
    for token in text.split([' ', ',', ';', ':', '\n', '\t']) {
        if token.is_empty() {
            continue;
        }
        if token.starts_with('@') && token.len() > 1 {
            n += 1;
        } else {
            break;
        }
    }
    (n > 0).then_some(n)
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty())
}

/// Turns stored pages into activities (pure: the same pages give the same table).
pub fn normalize(
    state: &AccountState,
    statuses: &[Vec<u8>],
    mentions: &[Vec<u8>],
) -> Vec<Activity> {
    let owner_id = state.meta.get("account_id").cloned().unwrap_or_default();
    let owner = state.owner.clone().unwrap_or_default();
    let server = state.server.clone().unwrap_or_default();
    let parse = |pages: &[Vec<u8>]| -> Vec<Value> {
        let mut by_id: HashMap<String, Value> = HashMap::new();
        for page in pages {
            if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(page) {
                for item in items {
                    if let Some(id) = str_of(&item, "id") {
                        // A later page holds the fresher copy (edited status).
                        by_id.insert(id.to_string(), item);
                    }
                }
            }
        }
        let mut v: Vec<Value> = by_id.into_values().collect();
        v.sort_by(|a, b| id_cmp(str_of(a, "id").unwrap_or(""), str_of(b, "id").unwrap_or("")));
        v
    };
    let statuses = parse(statuses);
    let mentions = parse(mentions);
    let uri_of = |s: &Value| -> String {
        str_of(s, "uri")
            .map(String::from)
            .unwrap_or_else(|| format!("{server}/statuses/{}", str_of(s, "id").unwrap_or("")))
    };
    let own_uris: HashMap<&str, String> = statuses
        .iter()
        .filter_map(|s| str_of(s, "id").map(|id| (id, uri_of(s))))
        .collect();
    let source_out: Arc<str> = Arc::from("mastodon API: account statuses");
    let source_in: Arc<str> = Arc::from("mastodon API: mention notifications");
    let mention_actors = |s: &Value| -> Vec<(String, String)> {
        s.get("mentions")
            .and_then(|m| m.as_array())
            .map(|ms| {
                ms.iter()
                    .filter_map(|m| {
                        Some((
                            str_of(m, "id").unwrap_or("").to_string(),
                            actor_of_profile_url(str_of(m, "url")?),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (seq, s) in statuses.iter().enumerate() {
        let id = uri_of(s);
        if !seen.insert(id.clone()) {
            continue;
        }
        let at = str_of(s, "created_at").and_then(parse_time);
        let mentioned = mention_actors(s);
        let others: Vec<Arc<str>> = mentioned
            .iter()
            .map(|(_, a)| a.as_str())
            .filter(|a| *a != owner)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(Arc::from)
            .collect();
        let mut a = if s.get("reblog").is_some_and(|r| r.is_object()) {
            Activity::new(
                Platform::Mastodon,
                id,
                at,
                Direction::Out,
                Kind::Repost,
                source_out.clone(),
            )
        } else {
            let direct = str_of(s, "visibility") == Some("direct");
            let reply_to = str_of(s, "in_reply_to_id");
            let kind = if direct {
                Kind::Message
            } else if reply_to.is_some() {
                Kind::Reply
            } else {
                Kind::Post
            };
            let mut a = Activity::new(
                Platform::Mastodon,
                id,
                at,
                Direction::Out,
                kind,
                source_out.clone(),
            );
            if let Some(parent) = reply_to {
                a.hints.parent = Some(
                    own_uris
                        .get(parent)
                        .cloned()
                        .unwrap_or_else(|| format!("mastodon-status:{parent}")),
                );
                let parent_account = str_of(s, "in_reply_to_account_id").unwrap_or("");
                a.hints.parent_is_owner = parent_account == owner_id;
                if !a.hints.parent_is_owner {
                    a.hints.parent_author = mentioned
                        .iter()
                        .find(|(mid, _)| mid == parent_account)
                        .map(|(_, actor)| actor.clone())
                        .or_else(|| others.first().map(|o| o.to_string()));
                    a.counterparts = a
                        .hints
                        .parent_author
                        .iter()
                        .map(|p| Arc::from(p.as_str()))
                        .collect();
                }
            } else if !direct {
                a.hints.leading_mentions = str_of(s, "content").and_then(leading_mentions);
            }
            if direct {
                a.counterparts = others.clone();
                a.participants = Some(others.len() as u32 + 1);
                a.conversation = Some(conversation_key(&owner, others.iter().map(|o| &**o)));
            } else if a.hints.leading_mentions.is_some() {
                a.counterparts = others.clone();
            }
            a
        };
        a.hints.seq = seq as u64;
        out.push(a);
    }
    for (seq, n) in mentions.iter().enumerate() {
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
        a.counterparts = vec![Arc::from(sender.as_str())];
        if direct {
            let people: BTreeSet<String> = mention_actors(s)
                .into_iter()
                .map(|(_, a)| a)
                .chain([sender.clone()])
                .filter(|p| *p != owner)
                .collect();
            a.participants = Some(people.len() as u32 + 1);
            a.conversation = Some(conversation_key(&owner, people.iter().map(|p| p.as_str())));
        }
        a.hints.seq = (statuses.len() + seq) as u64;
        out.push(a);
    }
    out
}

/// Mastodon has no conversation id on a status: a private conversation is its set of people.
fn conversation_key<'a>(owner: &str, others: impl Iterator<Item = &'a str>) -> Arc<str> {
    let mut people: BTreeSet<&str> = others.collect();
    people.insert(owner);
    Arc::from(format!(
        "mastodon-dm:{}",
        people.into_iter().collect::<Vec<_>>().join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_mentions_from_html() {
        let h = r#"<p><span class="h-card"><a href="https://o/@sam" class="u-url mention">@<span>sam</span></a></span> thanks!</p>"#;
        assert_eq!(leading_mentions(h), Some(1));
        assert_eq!(leading_mentions("<p>hello @sam</p>"), None);
        assert_eq!(leading_mentions("<p>.@sam hi</p>"), None);
        assert_eq!(leading_mentions("<p>@a @b, @c: @d hi</p>"), Some(4));
    }

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
    }

    #[test]
    fn statuses_become_activities() {
        let mut state = AccountState {
            owner: Some("https://h/users/me".into()),
            server: Some("https://h".into()),
            ..AccountState::default()
        };
        state.meta.insert("account_id".into(), "1".into());
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
        let v = normalize(
            &state,
            &[serde_json::to_vec(&page).unwrap_or_default()],
            &[serde_json::to_vec(&notes).unwrap_or_default()],
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
                Kind::Message
            ]
        );
        assert_eq!(
            v[1].hints.parent.as_deref(),
            Some("https://h/users/me/statuses/10")
        );
        assert!(v[1].hints.parent_is_owner);
        assert_eq!(
            v[2].hints.parent_author.as_deref(),
            Some("https://o/users/sam")
        );
        assert_eq!(v[4].participants, Some(2));
        assert_eq!(v[5].direction, Direction::In);
        assert_eq!(v[4].conversation, v[5].conversation);
    }
}
