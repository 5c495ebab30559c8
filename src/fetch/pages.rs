//! The page loop of newest-first listings (X timelines, Reddit listings, Threads edges): a
//! backfill from the newest item back to the oldest (or `--since`), then, on every later fetch,
//! only what is newer than the newest item stored — an unchanged account costs one request per
//! listing. Every page is stored verbatim before its cursor; the loop is guarded against cursors
//! that repeat or do not move. The platform file says how to ask for a page and how to read
//! one ([`Listing`]); this file owns no platform's names. Must not map items to activities.

use serde_json::{Value, json};

use super::{FetchError, FetchFuture, FetchOptions, PageGuard, Progress, Response, id_cmp};
use crate::store::{AccountState, AccountStore};

/// What one page says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageFacts {
    /// Items on the page.
    pub items: u64,
    /// Cursor of the next, older page (`None`: this was the last).
    pub next: Option<String>,
    /// Position of the newest item (an id, a fullname or a time): where increments start.
    pub newest: Option<String>,
    /// Position of the oldest item, for listings read from the top until known items.
    pub oldest: Option<String>,
    /// Time of the oldest item, ms since the epoch (for `--since`).
    pub oldest_at: Option<i64>,
}

/// How a listing gives what is newer than a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// Asked with the newest stored position (`since_id`, `since`), paged by the cursor.
    Since,
    /// Asked with an anchor that moves to each page's newest item (Reddit's `before`).
    MovingAnchor,
    /// No such parameter: read from the top until a page reaches the newest stored position
    /// (X DM events).
    FromTop,
}

/// One listing of one platform.
pub trait Listing: Sync {
    /// The store's endpoint name (`raw/<name>/`).
    fn endpoint(&self) -> &str;
    /// How increments are asked for.
    fn forward(&self) -> Forward;
    /// Sends the request for a page: older than the backfill `cursor` (`None`: the newest
    /// page), or, with `newer_than`, newer than that position.
    fn get<'a>(
        &'a self,
        cursor: Option<&'a str>,
        newer_than: Option<&'a str>,
    ) -> FetchFuture<'a, Response>;
    /// Reads a page (an error when it is not the expected shape).
    fn facts(&self, resp: &Response) -> Result<PageFacts, FetchError>;
}

/// The stored position of one listing.
#[derive(Debug, Default, Clone, PartialEq)]
struct Cursor {
    newest: Option<String>,
    backfill_next: Option<String>,
    backfill_done: bool,
}

impl Cursor {
    fn from(v: &Value) -> Cursor {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
        Cursor {
            newest: s("newest"),
            backfill_next: s("backfill_next"),
            backfill_done: v.get("backfill_done").and_then(|x| x.as_bool()) == Some(true),
        }
    }
    fn to_json(&self) -> Value {
        json!({
            "newest": self.newest,
            "backfill_next": self.backfill_next,
            "backfill_done": self.backfill_done,
        })
    }
}

/// Everything a walk needs besides the listing.
pub struct Walk<'a> {
    /// The account's store.
    pub store: &'a AccountStore,
    /// `--since`, the page cap.
    pub options: &'a FetchOptions,
    /// The progress bar.
    pub progress: &'a Progress,
}

impl Walk<'_> {
    /// Fetches what is new in `listing` into the store; notes go to `notes`.
    pub async fn run(
        &self,
        listing: &dyn Listing,
        state: &mut AccountState,
        notes: &mut Vec<String>,
    ) -> Result<(), FetchError> {
        let endpoint = listing.endpoint().to_string();
        let mut cursor = Cursor::from(
            &state
                .endpoints
                .get(&endpoint)
                .map(|e| e.cursor.clone())
                .unwrap_or(Value::Null),
        );
        let mut guard = PageGuard::new(&endpoint, self.options.max_pages);
        if !cursor.backfill_done {
            return self
                .backfill(listing, &endpoint, state, cursor, &mut guard, notes)
                .await;
        }
        let Some(newest) = cursor.newest.clone() else {
            // Nothing was ever stored: look at the top again.
            cursor.backfill_done = false;
            return self
                .backfill(listing, &endpoint, state, cursor, &mut guard, notes)
                .await;
        };
        match listing.forward() {
            Forward::Since => {
                // Pages come newest first: the first page's newest item is the new top. It is
                // recorded only once every page is stored, so a fetch that stops half-way asks
                // for the same range again (items are de-duplicated by id when mapped).
                let mut page_cursor: Option<String> = None;
                let mut top: Option<String> = None;
                loop {
                    if let Err(note) = guard.admit(page_cursor.as_deref()) {
                        notes.push(note);
                        break;
                    }
                    let resp = listing.get(page_cursor.as_deref(), Some(&newest)).await?;
                    let facts = listing.facts(&resp)?;
                    if top.is_none() && facts.items > 0 {
                        top = facts.newest.clone();
                    }
                    self.keep(state, &endpoint, &resp, facts.items, &cursor)?;
                    match facts.next {
                        Some(n) if facts.items > 0 => page_cursor = Some(n),
                        _ => break,
                    }
                }
                if let Some(top) = top {
                    cursor.newest = Some(top);
                    self.store.set_cursor(state, &endpoint, cursor.to_json())?;
                }
                Ok(())
            }
            Forward::MovingAnchor => {
                let mut anchor = newest;
                loop {
                    if let Err(note) = guard.admit(Some(&anchor)) {
                        notes.push(note);
                        return Ok(());
                    }
                    let resp = listing.get(None, Some(&anchor)).await?;
                    let facts = listing.facts(&resp)?;
                    let moved = facts
                        .newest
                        .clone()
                        .filter(|n| *n != anchor && facts.items > 0);
                    if let Some(n) = &moved {
                        cursor.newest = Some(n.clone());
                    }
                    self.keep(state, &endpoint, &resp, facts.items, &cursor)?;
                    match moved {
                        Some(n) => anchor = n,
                        None => return Ok(()),
                    }
                }
            }
            Forward::FromTop => {
                let mut page_cursor: Option<String> = None;
                let mut top: Option<String> = None;
                loop {
                    if let Err(note) = guard.admit(page_cursor.as_deref()) {
                        notes.push(note);
                        break;
                    }
                    let resp = listing.get(page_cursor.as_deref(), None).await?;
                    let facts = listing.facts(&resp)?;
                    if top.is_none() && facts.newest.as_deref() == Some(newest.as_str()) {
                        // The newest item is the one already stored: nothing new.
                        return Ok(());
                    }
                    if top.is_none() && facts.items > 0 {
                        top = facts.newest.clone();
                    }
                    let reached = facts
                        .oldest
                        .as_deref()
                        .is_none_or(|o| id_cmp(o, &newest).is_le());
                    self.keep(state, &endpoint, &resp, facts.items, &cursor)?;
                    match facts.next {
                        Some(n) if !reached && facts.items > 0 => page_cursor = Some(n),
                        _ => break,
                    }
                }
                if let Some(top) = top {
                    cursor.newest = Some(top);
                    self.store.set_cursor(state, &endpoint, cursor.to_json())?;
                }
                Ok(())
            }
        }
    }

    async fn backfill(
        &self,
        listing: &dyn Listing,
        endpoint: &str,
        state: &mut AccountState,
        mut cursor: Cursor,
        guard: &mut PageGuard,
        notes: &mut Vec<String>,
    ) -> Result<(), FetchError> {
        while !cursor.backfill_done {
            let at = cursor.backfill_next.clone();
            if let Err(note) = guard.admit(at.as_deref()) {
                notes.push(note);
                return Ok(());
            }
            let resp = listing.get(at.as_deref(), None).await?;
            let facts = listing.facts(&resp)?;
            let reached_since = self
                .options
                .since
                .is_some_and(|s| facts.oldest_at.is_some_and(|t| t < s));
            let done = facts.items == 0 || facts.next.is_none() || reached_since;
            // Pages come newest first: the top is the first page's newest item.
            let new = Cursor {
                newest: cursor.newest.clone().or(facts.newest.clone()),
                backfill_next: if done { None } else { facts.next.clone() },
                backfill_done: done,
            };
            self.keep(state, endpoint, &resp, facts.items, &new)?;
            cursor = new;
        }
        Ok(())
    }

    fn keep(
        &self,
        state: &mut AccountState,
        endpoint: &str,
        resp: &Response,
        items: u64,
        cursor: &Cursor,
    ) -> Result<(), FetchError> {
        self.store
            .store_page(state, endpoint, &resp.body, items, cursor.to_json())?;
        self.progress.page(endpoint, items);
        Ok(())
    }
}

/// The items of pages shaped `{"data": [...]}` (X API v2 and the Threads Graph API), in order.
pub(super) fn data_items(pages: &[Value]) -> impl Iterator<Item = &Value> {
    pages
        .iter()
        .filter_map(|p| p.get("data").and_then(|d| d.as_array()))
        .flatten()
}
