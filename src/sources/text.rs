//! Text helpers shared by importers: decoding (BOM, UTF-16), mojibake repair, liberal date
//! parsing, profile-URL normalization. Pure functions; no I/O.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

use crate::model::ActivityId;

/// Decodes a file's bytes: strips a UTF-8 BOM, decodes UTF-16 (LE/BE, with or without BOM),
/// replaces invalid UTF-8 sequences.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest);
    }
    if let Some(enc) = utf16_kind(bytes) {
        let body = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            &bytes[2..]
        } else {
            bytes
        };
        let units = body.chunks_exact(2).map(|c| match enc {
            Utf16::Le => u16::from_le_bytes([c[0], c[1]]),
            Utf16::Be => u16::from_be_bytes([c[0], c[1]]),
        });
        return Cow::Owned(
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect(),
        );
    }
    String::from_utf8_lossy(bytes)
}

#[derive(Clone, Copy)]
enum Utf16 {
    Le,
    Be,
}

/// UTF-16 by BOM, or by the pattern of zero bytes in ASCII-heavy text.
fn utf16_kind(bytes: &[u8]) -> Option<Utf16> {
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return Some(Utf16::Le);
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Some(Utf16::Be);
    }
    let sample = &bytes[..bytes.len().min(512) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let odd_zero = sample
        .chunks_exact(2)
        .filter(|c| c[1] == 0 && c[0] != 0)
        .count();
    let even_zero = sample
        .chunks_exact(2)
        .filter(|c| c[0] == 0 && c[1] != 0)
        .count();
    if odd_zero * 10 >= pairs * 8 {
        Some(Utf16::Le)
    } else if even_zero * 10 >= pairs * 8 {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// True when the bytes look like UTF-16 text.
pub fn is_utf16(bytes: &[u8]) -> bool {
    utf16_kind(bytes).is_some()
}

/// Repairs UTF-8 text that was decoded as Latin-1 somewhere upstream ("RenÃ©" → "René").
/// Applied only when every char fits in one byte and the bytes form valid UTF-8, so correct
/// text is never changed.
pub fn fix_mojibake(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || s.chars().any(|c| c as u32 > 0xFF) {
        return Cow::Borrowed(s);
    }
    let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
    match String::from_utf8(bytes) {
        Ok(fixed) => Cow::Owned(fixed),
        Err(_) => Cow::Borrowed(s),
    }
}

/// A display name for showing: mojibake repaired, whitespace collapsed, trimmed.
pub fn clean_name(s: &str) -> String {
    let fixed = fix_mojibake(s.trim());
    fixed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The key two display names are compared by (docs/counting.md "Names"): mojibake repaired,
/// NFKC, full Unicode case folding, whitespace collapsed, and every comma written `, `, so
/// "Ada Lovelace,MBA" and "ada  lovelace , MBA" are the same person.
pub fn name_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let fixed = fix_mojibake(s.trim());
    let nfkc: String = fixed.nfkc().collect();
    let folded = caseless::default_case_fold_str(&nfkc);
    let collapsed = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    if !collapsed.contains(',') {
        return collapsed;
    }
    collapsed
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(", ")
}

/// True for values that stand for "no value" in exports (`<NA>`, `n/a`, `null`, …).
pub fn is_placeholder(s: &str) -> bool {
    let t = s.trim();
    t.is_empty()
        || matches!(
            t.to_ascii_lowercase().as_str(),
            "<na>" | "n/a" | "na" | "null" | "none" | "-" | "<null>" | "undefined" | "nan"
        )
}

/// Normalizes a LinkedIn profile URL per docs/counting.md (*People*): lower-cased, `https://www.linkedin.com`,
/// no query or fragment, no trailing `/`. Placeholders and non-URLs give `None`.
pub fn normalize_linkedin_url(raw: &str) -> Option<String> {
    let t = raw.trim().trim_matches('"').trim();
    if is_normalized_linkedin_url(t) {
        return Some(t.to_string());
    }
    if is_placeholder(t) {
        return None;
    }
    let lower = t.to_lowercase();
    let cut = lower.find(['?', '#']).unwrap_or(lower.len());
    let mut s = &lower[..cut];
    for scheme in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest;
            break;
        }
    }
    // Host: any *.linkedin.com (www., nl., de., …) becomes www.linkedin.com.
    let (host, path) = match s.find('/') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    if !(host == "linkedin.com" || host.ends_with(".linkedin.com")) {
        return None;
    }
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    Some(format!("https://www.linkedin.com{path}"))
}

/// True when `t` is already in normalized form (the common case in large exports), so callers
/// can skip the allocations of [`normalize_linkedin_url`].
pub fn is_normalized_linkedin_url(t: &str) -> bool {
    match t.strip_prefix("https://www.linkedin.com/") {
        Some(path) => {
            !path.is_empty()
                && !path.ends_with('/')
                && !t.bytes().any(|b| {
                    b.is_ascii_uppercase() || b == b'?' || b == b'#' || b >= 0x80 || b == b' '
                })
        }
        None => false,
    }
}

fn two_digits(b: &[u8]) -> Option<u32> {
    if b.len() == 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit() {
        Some(((b[0] - b'0') * 10 + (b[1] - b'0')) as u32)
    } else {
        None
    }
}

/// Fast path for `YYYY-MM-DD HH:MM:SS` (the bulk of every LinkedIn file).
fn parse_iso_fast(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = s.get(0..4)?.parse::<i32>().ok()?;
    let date = NaiveDate::from_ymd_opt(year, two_digits(&b[5..7])?, two_digits(&b[8..10])?)?;
    let time = NaiveTime::from_hms_opt(
        two_digits(&b[11..13])?,
        two_digits(&b[14..16])?,
        two_digits(&b[17..19])?,
    )?;
    Some(NaiveDateTime::new(date, time))
}

/// Parses the date and time formats seen in exports into milliseconds since the epoch (UTC).
/// Naive times are UTC (docs/counting.md, *Owner*). Returns `None` when the text matches no known format.
pub fn parse_datetime(raw: &str) -> Option<i64> {
    let s = raw.trim().trim_matches('"').trim();
    if s.is_empty() {
        return None;
    }
    if let Some(dt) = parse_iso_fast(s) {
        let rest = s[19..].trim();
        // Fractional seconds, then an optional zone that must be UTC-like.
        let (frac_ms, zone) = split_fraction(rest);
        let zone = zone.trim();
        if matches!(zone, "" | "UTC" | "Z" | "GMT" | "+0000" | "+00:00" | "z") {
            return Some(dt.and_utc().timestamp_millis() + frac_ms);
        }
        if let Ok(with_offset) =
            DateTime::parse_from_str(&format!("{} {zone}", &s[..19]), "%Y-%m-%d %H:%M:%S %z")
                .or_else(|_| {
                    DateTime::parse_from_str(
                        &format!("{}{zone}", &s[..19].replace(' ', "T")),
                        "%Y-%m-%dT%H:%M:%S%:z",
                    )
                })
        {
            return Some(with_offset.timestamp_millis() + frac_ms);
        }
    }
    if let Some(ms) = parse_us_short_fast(s) {
        return Some(ms);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    const ZONED: &[&str] = &[
        "%a %b %d %H:%M:%S %z %Y", // X: Sat Feb 18 12:33:11 +0000 2023
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ];
    for f in ZONED {
        if let Ok(dt) = DateTime::parse_from_str(s, f) {
            return Some(dt.timestamp_millis());
        }
    }
    // Java Date.toString style: "Sat Sep 05 08:12:14 UTC 2026".
    let no_utc = s.replace(" UTC ", " ").replace(" GMT ", " ");
    let naive_formats: &[&str] = &[
        "%m/%d/%y, %I:%M %p",
        "%m/%d/%y, %I:%M:%S %p",
        "%m/%d/%Y, %I:%M %p",
        "%m/%d/%Y, %I:%M:%S %p",
        "%m/%d/%y %I:%M %p",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%y, %H:%M",
        "%m/%d/%Y, %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%y %H:%M",
        "%m/%d/%Y %H:%M",
        "%a %b %d %H:%M:%S %Y",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%B %d, %Y at %I:%M %p",
        "%b %d, %Y, %I:%M %p",
        "%b %d, %Y %I:%M %p",
        "%Y-%m-%dT%H:%M:%S%.f",
    ];
    // Narrow no-break spaces appear before AM/PM in some locales' exports.
    let normalized = no_utc
        .replace(['\u{202F}', '\u{00A0}'], " ")
        .trim_end_matches(" UTC")
        .trim_end_matches(" GMT")
        .to_string();
    for f in naive_formats {
        if let Ok(dt) = NaiveDateTime::parse_from_str(&normalized, f) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    let date_formats: &[&str] = &[
        "%Y-%m-%d",
        "%d %b %Y",
        "%m/%d/%y",
        "%m/%d/%Y",
        "%B %d, %Y",
        "%b %d, %Y",
    ];
    for f in date_formats {
        if let Ok(d) = NaiveDate::parse_from_str(&normalized, f) {
            return d
                .and_hms_opt(0, 0, 0)
                .map(|dt| dt.and_utc().timestamp_millis());
        }
    }
    None
}

/// Fast path for LinkedIn invitations' `M/D/YY, h:mm AM` (two-digit years are 20YY).
fn parse_us_short_fast(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(", ")?;
    let mut d = date.split('/');
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    let year_text = d.next()?;
    if d.next().is_some() || !(year_text.len() == 2 || year_text.len() == 4) {
        return None;
    }
    let mut year: i32 = year_text.parse().ok()?;
    if year_text.len() == 2 {
        year += 2000;
    }
    let (clock, meridiem) = time.trim().split_once(' ')?;
    let (h, m) = clock.split_once(':')?;
    if m.len() != 2 {
        return None;
    }
    let (mut hour, minute): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if !(1..=12).contains(&hour) {
        return None;
    }
    match meridiem.trim() {
        "AM" | "am" => {
            if hour == 12 {
                hour = 0;
            }
        }
        "PM" | "pm" => {
            if hour != 12 {
                hour += 12;
            }
        }
        _ => return None,
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_opt(hour, minute, 0)?;
    Some(NaiveDateTime::new(date, time).and_utc().timestamp_millis())
}

fn split_fraction(rest: &str) -> (i64, &str) {
    if let Some(r) = rest.strip_prefix('.') {
        let digits: usize = r.bytes().take_while(|b| b.is_ascii_digit()).count();
        let frac = &r[..digits];
        let ms = format!("{:0<3}", &frac[..frac.len().min(3)])
            .parse::<i64>()
            .unwrap_or(0);
        (ms, &r[digits..])
    } else {
        (0, rest)
    }
}

/// `prefix:` and the 16 hex digits of `hash`: the shape of every synthesized content id, made
/// where the activity keeps it (inside it when it fits: no heap text made and dropped).
pub fn hash_id(prefix: &str, hash: u64) -> ActivityId {
    digits_id(prefix, hash, 4, 16)
}

/// `prefix:` and the low 60 bits of `hash` as 12 digits of base32hex (RFC 4648 §7, lower
/// case): Facebook's and Instagram's content ids, which at 24 bytes or less (`fb-reaction:`
/// and 12 digits) stay inside the activity, where 16 hex digits put every comment's and
/// reaction's id in a heap block of its own.
pub fn short_hash_id(prefix: &str, hash: u64) -> ActivityId {
    digits_id(prefix, hash, 5, 12)
}

/// `prefix:` and the low `count * bits` bits of `hash`, `bits` per digit, most significant
/// first (hex is base32hex's first 16 digits). By hand: `format!` is measurable at a million
/// records.
fn digits_id(prefix: &str, hash: u64, bits: usize, count: usize) -> ActivityId {
    const DIGITS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mask = (1u64 << bits) - 1;
    let mut digits = [0u8; 17];
    digits[0] = b':';
    for (i, d) in digits[1..=count].iter_mut().enumerate() {
        *d = DIGITS[((hash >> ((count - 1 - i) * bits)) & mask) as usize];
    }
    let mut id = ActivityId::default();
    id.push_str(prefix);
    // ASCII throughout.
    id.push_str(std::str::from_utf8(&digits[..=count]).unwrap_or_default());
    id
}

/// A short stable hash (FNV-1a, 64 bit) for ids synthesized from content.
pub fn fnv64(parts: &[&str]) -> u64 {
    const PRIME: u64 = 0x100000001b3;
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for &b in p.as_bytes() {
            h = (h ^ b as u64).wrapping_mul(PRIME);
        }
        // A separator after each part ("ab" + "c" ≠ "a" + "bc").
        h = (h ^ 0x1f).wrapping_mul(PRIME);
    }
    h
}

/// A 64-bit hash of `parts` that reads eight bytes per step (FNV's one byte per step is most
/// of the id cost of a million Meta records), with a separator per part and a final mix.
/// Defined here, not by a crate, so ids stay the same across rapport versions.
pub fn hash64(parts: &[&str]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = |h: u64, w: u64| {
        let h = (h ^ w).wrapping_mul(K);
        h ^ (h >> 29)
    };
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for p in parts {
        let bytes = p.as_bytes();
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = step(h, u64::from_le_bytes(w));
        }
        // The tail, with the part's length in the top byte ("ab" + "c" ≠ "a" + "bc").
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(w) ^ ((bytes.len() as u64) << 56));
    }
    // splitmix64's finalizer.
    h ^= h >> 30;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash64_separates_parts_and_is_stable() {
        assert_ne!(hash64(&["ab", "c"]), hash64(&["a", "bc"]));
        assert_ne!(hash64(&["abcdefgh", ""]), hash64(&["abcdefgh"]));
        assert_ne!(hash64(&["x"]), hash64(&["y"]));
        // Pinned: Meta ids in activities.csv must not change between versions.
        assert_eq!(hash64(&["fb", "hello world"]), 0x5231_3f4d_d1fd_82bc);
        assert_eq!(hash64(&[]), 0xe9e0_033e_3bad_af36);
    }

    #[test]
    fn meta_content_ids_fit_inside_the_activity() {
        let h = hash64(&["fb", "hello world"]) & ((1 << 60) - 1);
        let id = short_hash_id("fb-reaction", h);
        // Pinned like the hash; the longest Facebook and Instagram prefix still fits 24 bytes.
        assert_eq!(id, "fb-reaction:4c9v9n8vr0ls");
        assert!(!id.is_heap_allocated());
        assert_eq!(short_hash_id("ig-comment", 0), "ig-comment:000000000000");
        assert_eq!(
            short_hash_id("x", (1 << 60) - 1),
            "x:vvvvvvvvvvvv",
            "every one of the 60 bits shows"
        );
    }

    fn ymd_hms(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .map(|d| d.and_utc().timestamp_millis())
            .unwrap_or(i64::MIN)
    }

    #[test]
    fn linkedin_date_formats() {
        let t = ymd_hms("2024-03-02 09:15:00");
        assert_eq!(parse_datetime("2024-03-02 09:15:00"), Some(t));
        assert_eq!(parse_datetime("2024-03-02 09:15:00 UTC"), Some(t));
        assert_eq!(parse_datetime("\"2024-03-02T09:15:00Z\""), Some(t));
        assert_eq!(parse_datetime("3/2/24, 9:15 AM"), Some(t));
        assert_eq!(
            parse_datetime("3/2/24, 9:15 PM"),
            Some(t + 12 * 3600 * 1000)
        );
        assert_eq!(parse_datetime("03/02/2024, 09:15 AM"), Some(t));
        assert_eq!(
            parse_datetime("3/2/24, 12:15 AM"),
            Some(t - 9 * 3600 * 1000)
        );
        assert_eq!(
            parse_datetime("3/2/24, 12:15 PM"),
            Some(t + 3 * 3600 * 1000)
        );
        assert_eq!(parse_datetime("3/2/24,\u{202f}9:15\u{202f}AM"), Some(t));
        assert_eq!(parse_datetime("3/2/24, 9:15\u{202f}AM"), Some(t));
        assert_eq!(parse_datetime("13/2/24, 9:15 PM"), None);
        assert_eq!(parse_datetime("Sat Mar 02 09:15:00 +0000 2024"), Some(t));
        assert_eq!(parse_datetime("Sat Mar 02 09:15:00 UTC 2024"), Some(t));
        assert_eq!(parse_datetime("2024-03-02 10:15:00 +0100"), Some(t));
        assert_eq!(
            parse_datetime("15 Jan 2024"),
            Some(ymd_hms("2024-01-15 00:00:00"))
        );
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_datetime("2024-13-45 09:15:00"), None);
        assert_eq!(parse_datetime(""), None);
    }

    #[test]
    fn names_with_commas_are_one_key_whatever_the_spacing() {
        assert_eq!(name_key("Ada Lovelace,MBA"), "ada lovelace, mba");
        assert_eq!(name_key("Ada Lovelace, MBA"), "ada lovelace, mba");
        assert_eq!(name_key(" ada  lovelace ,  MBA "), "ada lovelace, mba");
        assert_eq!(name_key("RenÃ© Dupont"), "rené dupont");
        assert_eq!(name_key("Jo Straße"), "jo strasse");
        // NFKC: a full-width letter and a non-breaking space are the plain ones.
        assert_eq!(name_key("Ｋim\u{a0}Doe"), "kim doe");
    }

    #[test]
    fn dates_of_the_2018_generation_and_day_month_year() {
        let t = ymd_hms("2018-05-01 10:00:00");
        assert_eq!(parse_datetime("2018/05/01 10:00:00 UTC"), Some(t));
        assert_eq!(
            parse_datetime("01 May 2018"),
            Some(ymd_hms("2018-05-01 00:00:00"))
        );
        assert_eq!(
            parse_datetime("1 May 2018"),
            Some(ymd_hms("2018-05-01 00:00:00"))
        );
    }

    #[test]
    fn mojibake_repaired_only_when_clean() {
        assert_eq!(fix_mojibake("RenÃ©"), "René");
        assert_eq!(fix_mojibake("René"), "René");
        assert_eq!(fix_mojibake("Zoë Ünal"), "Zoë Ünal");
        assert_eq!(fix_mojibake("plain"), "plain");
    }

    #[test]
    fn url_normalization() {
        assert_eq!(
            normalize_linkedin_url("https://www.linkedin.com/in/Robin-Example?trk=x").as_deref(),
            Some("https://www.linkedin.com/in/robin-example")
        );
        assert_eq!(
            normalize_linkedin_url("http://nl.linkedin.com/in/robin-example/").as_deref(),
            Some("https://www.linkedin.com/in/robin-example")
        );
        assert_eq!(
            normalize_linkedin_url("linkedin.com/in/Robin-Example/#x").as_deref(),
            Some("https://www.linkedin.com/in/robin-example")
        );
        assert_eq!(normalize_linkedin_url("<NA>"), None);
        assert_eq!(normalize_linkedin_url("n/a"), None);
        assert_eq!(normalize_linkedin_url(""), None);
    }

    #[test]
    fn utf16_decoded() {
        let text = "Date\tShareLink\n";
        let mut le = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&le), text);
        let no_bom: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(decode(&no_bom), text);
        assert_eq!(decode(b"\xEF\xBB\xBFDate"), "Date");
    }
}
