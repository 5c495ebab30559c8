//! Warnings and skipped-record counters collected during a run. Owns counting and the terminal
//! rendering of problems; must not decide what is a problem (importers do that).

use std::collections::BTreeMap;

use serde::Serialize;

/// What happened to the record a problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The record was dropped.
    Skipped,
    /// The record was kept, with something left unknown (e.g. undated).
    Kept,
}

/// All problems of one kind in one file: a count and the first example.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    /// The file (inside its archive) the problem was found in.
    pub source: String,
    /// A short, stable description of the problem ("unparseable date").
    pub reason: String,
    /// Whether the records were dropped or kept.
    pub outcome: Outcome,
    /// How many records had this problem.
    pub count: u64,
    /// Line (or record number) of the first occurrence, 1-based, when known.
    pub first_line: Option<u64>,
    /// The first occurrence in detail (e.g. the offending value).
    pub example: String,
}

/// Problems of a run, grouped by (source, reason, outcome).
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    problems: BTreeMap<(String, String, Outcome), Problem>,
    notes: Vec<String>,
}

impl Diagnostics {
    /// Records a problem. The first occurrence keeps its line and example; later ones only count.
    pub fn report(
        &mut self,
        source: &str,
        line: Option<u64>,
        reason: &str,
        outcome: Outcome,
        example: impl FnOnce() -> String,
    ) {
        let key = (source.to_string(), reason.to_string(), outcome);
        match self.problems.get_mut(&key) {
            Some(p) => p.count += 1,
            None => {
                self.problems.insert(
                    key,
                    Problem {
                        source: source.to_string(),
                        reason: reason.to_string(),
                        outcome,
                        count: 1,
                        first_line: line,
                        example: example(),
                    },
                );
            }
        }
    }

    /// A record was dropped.
    pub fn skip(&mut self, source: &str, line: Option<u64>, reason: &str, example: String) {
        self.report(source, line, reason, Outcome::Skipped, || example);
    }

    /// A record was kept but something about it is unknown or repaired.
    pub fn warn(&mut self, source: &str, line: Option<u64>, reason: &str, example: String) {
        self.report(source, line, reason, Outcome::Kept, || example);
    }

    /// An informational note that is not a problem (e.g. files ignored as not participation data).
    pub fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// Merges another collection into this one (used after parallel parsing).
    pub fn merge(&mut self, other: Diagnostics) {
        for (key, p) in other.problems {
            match self.problems.get_mut(&key) {
                Some(mine) => {
                    mine.count += p.count;
                    if mine.first_line.is_none()
                        || (p.first_line.is_some() && p.first_line < mine.first_line)
                    {
                        mine.first_line = p.first_line;
                        mine.example = p.example;
                    }
                }
                None => {
                    self.problems.insert(key, p);
                }
            }
        }
        self.notes.extend(other.notes);
    }

    /// All problems, ordered by source then reason.
    pub fn problems(&self) -> Vec<Problem> {
        self.problems.values().cloned().collect()
    }

    /// Informational notes.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Number of problem records in total.
    pub fn problem_count(&self) -> u64 {
        self.problems.values().map(|p| p.count).sum()
    }

    /// True when nothing went wrong.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One line per problem, for the terminal and error messages.
pub fn describe(p: &Problem) -> String {
    let what = match p.outcome {
        Outcome::Skipped => "skipped",
        Outcome::Kept => "kept",
    };
    let at = match p.first_line {
        Some(l) => format!(", first at line {l}"),
        None => String::new(),
    };
    let example = if p.example.is_empty() {
        String::new()
    } else {
        format!(" (e.g. {})", p.example)
    };
    format!(
        "{}: {} record(s) {what}: {}{at}{example}",
        p.source, p.count, p.reason
    )
}
