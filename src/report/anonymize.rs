//! `--anonymize`: rewrites what the outputs would show of people before anything is written —
//! every person id (counterparts, owners, who is waiting) becomes a stable pseudonym
//! (`person-1`, … in order of first appearance, owners first; the same person the same
//! pseudonym in every file), activity and conversation ids are hashed, and the paths and notes
//! that can carry names (input file names, Messenger thread folders, record excerpts) are
//! rewritten. Counts are untouched: it runs after the analysis. No Polars, no I/O.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::RunInfo;
use crate::analysis::Summary;
use crate::model::{Activity, ActivityId, Name, Platform, Source};

/// Pseudonyms of one run.
struct Names {
    people: HashMap<(Platform, String), Arc<str>>,
    conversations: HashMap<String, String>,
    /// Path components that name a conversation (Messenger folders) → their pseudonym.
    folders: HashMap<String, String>,
    key: [u8; 32],
}

impl Names {
    fn person(&mut self, platform: Platform, id: &str) -> Arc<str> {
        let next = self.people.len() + 1;
        self.people
            .entry((platform, id.to_string()))
            .or_insert_with(|| Arc::from(format!("person-{next}")))
            .clone()
    }

    fn conversation(&mut self, id: &str) -> String {
        let next = self.conversations.len() + 1;
        self.conversations
            .entry(id.to_string())
            .or_insert_with(|| format!("conversation-{next}"))
            .clone()
    }

    /// A keyed hash: stable within the data, not reversible without it.
    fn hash(&self, platform: Platform, id: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(platform.as_str().as_bytes());
        h.update([0]);
        h.update(id.as_bytes());
        h.finalize()
            .iter()
            .take(10)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `path` with every component that names a conversation replaced.
    fn path(&self, path: &str) -> String {
        if self.folders.is_empty() {
            return path.to_string();
        }
        path.split('/')
            .map(|c| self.folders.get(c).map_or(c, String::as_str))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Rewrites activities, findings and run information in place.
pub fn anonymize(activities: &mut [Activity], summary: &mut Summary, info: &mut RunInfo) {
    let mut key = Sha256::new();
    for a in activities.iter() {
        key.update(a.id.as_bytes());
        key.update([0]);
    }
    let mut names = Names {
        people: HashMap::new(),
        conversations: HashMap::new(),
        folders: HashMap::new(),
        key: key.finalize().into(),
    };
    // Owners first, so the account's owner is person-1 on their platform.
    let mut owner_ids = Vec::new();
    for o in &mut info.owners {
        if let Some(id) = o.id.take() {
            let p = names.person(o.platform, &id);
            o.how = o.how.replace(&id, &p);
            owner_ids.push((id, p.to_string()));
            o.id = Some(p.to_string());
        }
    }
    for a in activities.iter() {
        if let Some(c) = &a.conversation {
            let pseudonym = names.conversation(c);
            // A conversation named after a folder of the export (Messenger, Instagram):
            // that folder is a name too.
            let last = c.rsplit(['/', ':']).next().unwrap_or(c);
            if !last.is_empty() && a.source.split('/').any(|part| part == last) {
                names.folders.insert(last.to_string(), pseudonym);
            }
        }
    }
    // One anonymized source per source, shared as the original was.
    let mut last_source: Option<(Source, Source)> = None;
    for a in activities.iter_mut() {
        let platform = a.platform;
        for c in &mut a.counterparts {
            *c = names.person(platform, c);
        }
        a.id = ActivityId::new(names.hash(platform, &a.id));
        if let Some(c) = &a.conversation {
            a.conversation = Some(Name::from(names.conversation(c)));
        }
        let source = match &last_source {
            Some((from, to)) if Source::ptr_eq(from, &a.source) => to.clone(),
            _ => Source::from(names.path(&a.source)),
        };
        last_source = Some((a.source.clone(), source.clone()));
        a.source = source;
    }
    if let Some(f) = &mut summary.findings {
        for w in &mut f.waiting {
            let platform = Platform::from_name(&w.platform).unwrap_or(Platform::LinkedIn);
            w.who = w
                .who
                .take()
                .map(|who| names.person(platform, &who).to_string());
            w.conversation = names.conversation(&w.conversation);
        }
    }
    // Inputs: the file names of downloads often hold the account name.
    let mut paths: Vec<(String, String)> = Vec::new();
    for (i, input) in info.inputs.iter_mut().enumerate() {
        let pseudonym = match input.container.as_str() {
            "store" => format!(
                "{}:account-{}",
                input.format.split(' ').next().unwrap_or("account"),
                i + 1
            ),
            "folder" => format!("export-{}", i + 1),
            _ => {
                let ext = [".tar.gz", ".tgz", ".zip", ".tar", ".car"]
                    .into_iter()
                    .find(|e| input.path.to_ascii_lowercase().ends_with(e))
                    .unwrap_or("");
                format!("export-{}{ext}", i + 1)
            }
        };
        paths.push((
            std::mem::replace(&mut input.path, pseudonym.clone()),
            pseudonym,
        ));
    }
    // Longest first, so a path that contains another is replaced whole.
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let rewrite = |text: &str| -> String {
        let mut t = text.to_string();
        for (from, to) in paths.iter().chain(&owner_ids) {
            t = t.replace(from.as_str(), to);
        }
        names.path(&t)
    };
    for p in &mut info.problems {
        p.source = rewrite(&p.source);
        // Examples quote the export's records: names and messages.
        p.example.clear();
    }
    for n in &mut info.notes {
        *n = rewrite(n);
    }
}
