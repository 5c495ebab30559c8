//! Deterministic generator of large invented Facebook or Instagram exports ("Download your
//! information", JSON) for benchmarks. Owns nothing of rapport's logic; it only writes the
//! export's format, zipped: the profile file, posts, comments, reactions and likes, and DM
//! threads (one folder per conversation, `message_1.json`, newest first), with Meta's
//! mojibake for non-ASCII text.
//!
//! ```text
//! cargo run --release --example gen_meta -- --platform facebook --activities 1000000 --out big-fb.zip [--seed 7]
//! cargo run --release --example gen_meta -- --platform instagram --activities 1000000 --out big-ig.zip
//! ```
//! Mix: 15 % posts, 15 % comments, 20 % reactions or likes, 50 % messages in 2–12-message
//! conversations (10 % of them groups of 3–6, a few of them beyond the group limit). Every
//! name and text is invented.

use std::fs::File;
use std::io::{BufWriter, Write};

mod common;

use common::Rng;

const WORDS: &[&str] = &[
    "coffee", "garden", "thanks", "meeting", "photo", "team", "idea", "great", "question",
    "weekend", "event", "talk", "café", "lesson", "soon", "😀",
];

const OWNER: &str = "Robin Example";
const START: i64 = 1_577_836_800; // 2020-01-01

/// Meta's encoding: each UTF-8 byte of `s` as one `\u00XX` character, in a JSON string.
fn meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\u00{b:02x}")),
        }
    }
    out.push('"');
    out
}

fn text(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn person(i: u64) -> String {
    format!("Person{i} Sample")
}

/// A JSON array written item by item into one zip entry.
struct Array<'z, W: Write + std::io::Seek> {
    zip: &'z mut zip::ZipWriter<W>,
    first: bool,
    close: &'static str,
}

impl<'z, W: Write + std::io::Seek> Array<'z, W> {
    fn open(
        zip: &'z mut zip::ZipWriter<W>,
        name: &str,
        head: &str,
        close: &'static str,
    ) -> std::io::Result<Self> {
        zip.start_file(name, zip::write::SimpleFileOptions::default())?;
        zip.write_all(head.as_bytes())?;
        Ok(Array {
            zip,
            first: true,
            close,
        })
    }

    fn item(&mut self, json: &str) -> std::io::Result<()> {
        if !self.first {
            self.zip.write_all(b",\n")?;
        }
        self.first = false;
        self.zip.write_all(json.as_bytes())
    }

    fn close(self) -> std::io::Result<()> {
        self.zip.write_all(self.close.as_bytes())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n: u64 = 10_000;
    let mut out = String::from("big-meta.zip");
    let mut seed: u64 = 7;
    let mut platform = String::from("facebook");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--activities" => n = args.next().ok_or("--activities N")?.parse()?,
            "--out" => out = args.next().ok_or("--out FILE")?,
            "--seed" => seed = args.next().ok_or("--seed N")?.parse()?,
            "--platform" => platform = args.next().ok_or("--platform facebook|instagram")?,
            "-h" | "--help" => {
                println!(
                    "gen_meta --platform facebook|instagram --activities N --out FILE.zip [--seed S]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let fb = match platform.as_str() {
        "facebook" => true,
        "instagram" => false,
        other => return Err(format!("--platform {other}: facebook or instagram").into()),
    };
    let mut rng = Rng(seed);
    let file = BufWriter::with_capacity(1 << 20, File::create(&out)?);
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default();
    let span = 5 * 365 * 86_400u64;
    let when = |rng: &mut Rng| START + rng.below(span) as i64;
    let (posts, comments, likes) = (n * 15 / 100, n * 15 / 100, n * 20 / 100);
    let messages = n - posts - comments - likes;
    let act = if fb {
        "your_facebook_activity"
    } else {
        "your_instagram_activity"
    };
    // The profile.
    if fb {
        zip.start_file(
            "personal_information/profile_information/profile_information.json",
            opts,
        )?;
        write!(
            zip,
            "{{\"profile_v2\": {{\"name\": {{\"full_name\": {}}}}}}}",
            meta(OWNER)
        )?;
    } else {
        zip.start_file(
            "personal_information/personal_information/personal_information.json",
            opts,
        )?;
        write!(
            zip,
            "{{\"profile_user\": [{{\"string_map_data\": {{\"Username\": {{\"value\": \"robin.example\"}}, \"Name\": {{\"value\": {}}}}}}}]}}",
            meta(OWNER)
        )?;
    }
    // Posts.
    let mut a = if fb {
        Array::open(
            &mut zip,
            &format!("{act}/posts/your_posts__check_ins__photos_and_videos_1.json"),
            "[\n",
            "\n]\n",
        )?
    } else {
        Array::open(
            &mut zip,
            &format!("{act}/content/posts_1.json"),
            "[\n",
            "\n]\n",
        )?
    };
    for i in 0..posts {
        let t = when(&mut rng);
        let body = text(&mut rng, 12);
        let item = if fb {
            let title = if rng.below(10) == 0 {
                format!("{OWNER} wrote on {}'s timeline.", person(rng.below(5000)))
            } else {
                format!("{OWNER} updated his status.")
            };
            format!(
                "{{\"timestamp\": {t}, \"attachments\": [], \"data\": [{{\"post\": {}}}], \"title\": {}}}",
                meta(&body),
                meta(&title)
            )
        } else {
            format!(
                "{{\"media\": [{{\"uri\": \"media/posts/{i}.jpg\", \"creation_timestamp\": {t}, \"title\": {}}}]}}",
                meta(&body)
            )
        };
        a.item(&item)?;
    }
    a.close()?;
    // Comments.
    let mut a = if fb {
        Array::open(
            &mut zip,
            &format!("{act}/comments_and_reactions/comments.json"),
            "{\"comments_v2\": [\n",
            "\n]}\n",
        )?
    } else {
        Array::open(
            &mut zip,
            &format!("{act}/comments/post_comments_1.json"),
            "[\n",
            "\n]\n",
        )?
    };
    for _ in 0..comments {
        let t = when(&mut rng);
        let body = text(&mut rng, 8);
        let who = rng.below(5000);
        let item = if fb {
            format!(
                "{{\"timestamp\": {t}, \"data\": [{{\"comment\": {{\"timestamp\": {t}, \"comment\": {}, \"author\": {}}}}}], \"title\": {}}}",
                meta(&body),
                meta(OWNER),
                meta(&format!("{OWNER} commented on {}'s post.", person(who)))
            )
        } else {
            format!(
                "{{\"media_list_data\": [], \"string_map_data\": {{\"Comment\": {{\"value\": {}}}, \"Media Owner\": {{\"value\": \"person{who}\"}}, \"Time\": {{\"timestamp\": {t}}}}}}}",
                meta(&body)
            )
        };
        a.item(&item)?;
    }
    a.close()?;
    // Reactions / likes.
    let mut a = if fb {
        Array::open(
            &mut zip,
            &format!("{act}/comments_and_reactions/likes_and_reactions_1.json"),
            "[\n",
            "\n]\n",
        )?
    } else {
        Array::open(
            &mut zip,
            &format!("{act}/likes/liked_posts.json"),
            "{\"likes_media_likes\": [\n",
            "\n]}\n",
        )?
    };
    for _ in 0..likes {
        let t = when(&mut rng);
        let who = rng.below(5000);
        let item = if fb {
            format!(
                "{{\"timestamp\": {t}, \"data\": [{{\"reaction\": {{\"reaction\": \"LIKE\", \"actor\": {}}}}}], \"title\": {}}}",
                meta(OWNER),
                meta(&format!("{OWNER} likes {}'s post.", person(who)))
            )
        } else {
            format!(
                "{{\"title\": \"person{who}\", \"string_list_data\": [{{\"href\": \"https://www.instagram.com/p/{who}/\", \"value\": \"\", \"timestamp\": {t}}}]}}"
            )
        };
        a.item(&item)?;
    }
    a.close()?;
    // DM threads: one folder each, messages newest first.
    let mut left = messages;
    let mut thread = 0u64;
    while left > 0 {
        thread += 1;
        let len = (2 + rng.below(11)).min(left);
        left -= len;
        let group = rng.below(10) == 0;
        let mut people: Vec<String> = vec![OWNER.to_string()];
        let others = if group {
            if rng.below(5) == 0 {
                9
            } else {
                2 + rng.below(4)
            }
        } else {
            1
        };
        for _ in 0..others {
            people.push(person(rng.below(5000)));
        }
        let folder = format!("{}_{thread}", people[1].to_lowercase().replace(' ', ""));
        zip.start_file(
            format!("{act}/messages/inbox/{folder}/message_1.json"),
            opts,
        )?;
        let participants: Vec<String> = people
            .iter()
            .map(|p| format!("{{\"name\": {}}}", meta(p)))
            .collect();
        writeln!(
            zip,
            "{{\"participants\": [{}], \"messages\": [",
            participants.join(", ")
        )?;
        let mut t = when(&mut rng) * 1000;
        for k in 0..len {
            if k > 0 {
                zip.write_all(b",\n")?;
            }
            let sender = &people[rng.below(people.len() as u64) as usize];
            write!(
                zip,
                "{{\"sender_name\": {}, \"timestamp_ms\": {t}, \"content\": {}, \"is_geoblocked_for_viewer\": false}}",
                meta(sender),
                meta(&text(&mut rng, 10))
            )?;
            t -= (1 + rng.below(3600)) as i64 * 1000;
        }
        write!(
            zip,
            "\n], \"title\": {}, \"is_still_participant\": true, \"thread_path\": \"inbox/{folder}\", \"magic_words\": []}}\n",
            meta(&people[1..].join(", "))
        )?;
    }
    zip.finish()?;
    eprintln!("wrote {out} ({n} activities, {thread} threads, {platform}, seed {seed})");
    Ok(())
}
