//! `report.html` in a real browser: headless Chromium lays the page out at 1280 px and at a
//! 390 px phone width (each in an iframe of that width, since a headless window cannot be
//! narrower than 500 px), and a script injected into a copy of the page reports the layout
//! width, the images, the headings and where the findings sit. Skips with a message when no
//! Chromium is installed, unless RAPPORT_REQUIRE_BROWSER=1 (CI, after installing it).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::super::{fixture, rapport};

const WIDTHS: [u32; 2] = [1280, 390];

fn chromium() -> Option<PathBuf> {
    let mut candidates = std::env::var_os("RAPPORT_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/usr/bin/chromium",
                "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome",
            ]
            .map(PathBuf::from),
        );
    candidates.find(|c| c.is_file())
}

/// Measures the page it is injected into and posts the result to the host page.
const CHECK: &str = r#"<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {loaded: i.complete && i.naturalWidth > 0, alt: i.alt || '',
            width: i.getBoundingClientRect().width};
  });
  var heads = Array.prototype.map.call(document.querySelectorAll('h1,h2,h3,h4,h5,h6'),
    function (h) { return Number(h.tagName.substring(1)); });
  var findings = document.getElementById('findings');
  var firstImg = document.images[0];
  var headline = document.getElementById('headline');
  parent.postMessage(JSON.stringify({
    width: window.innerWidth,
    scroll: document.documentElement.scrollWidth,
    imgs: imgs,
    heads: heads,
    findingsFirst: !!findings && !!firstImg &&
      !!(findings.compareDocumentPosition(firstImg) & Node.DOCUMENT_POSITION_FOLLOWING),
    headline: headline ? headline.textContent : null,
    ratio: headline ? headline.getAttribute('data-participation-ratio') : null
  }), '*');
});
</script>"#;

fn host_page(report: &Path) -> String {
    let frames: String = WIDTHS
        .iter()
        .map(|w| {
            format!(
                "<iframe src=\"{}\" style=\"width:{w}px;height:900px;border:0\"></iframe>",
                report.display()
            )
        })
        .collect();
    format!(
        "<!doctype html><html><body><pre id=\"results\"></pre>{frames}<script>\
window.addEventListener('message', function (e) {{\
  document.getElementById('results').textContent += e.data + '\\n';\
}});</script></body></html>"
    )
}

#[test]
fn report_reads_at_desktop_and_phone_width_in_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("RAPPORT_REQUIRE_BROWSER").is_none(),
            "RAPPORT_REQUIRE_BROWSER is set but no Chromium was found"
        );
        eprintln!("skipped: no Chromium (install Debian's chromium or set RAPPORT_CHROMIUM)");
        return;
    };
    // Two platforms: the widest table and legends.
    let out = tempfile::tempdir().expect("tmp");
    rapport()
        .args(["analyze", "--export"])
        .arg(fixture("linkedin.zip"))
        .arg("--export")
        .arg(fixture("reddit.zip"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let page = std::fs::read_to_string(out.path().join("report.html")).expect("html");
    assert!(
        !page.contains("<script"),
        "the report itself needs no script"
    );
    for external in ["src=\"http", "href=\"http", "url(http", "<link"] {
        assert!(
            !page.contains(external),
            "the report loads {external}…: not self-contained"
        );
    }
    let checked = out.path().join("checked.html");
    std::fs::write(
        &checked,
        page.replace("</body>", &format!("{CHECK}</body>")),
    )
    .expect("copy");
    let host = out.path().join("host.html");
    std::fs::write(&host, host_page(&checked)).expect("host");
    let profile = tempfile::tempdir().expect("profile");
    let run = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            "--window-size=1400,1000",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", host.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&run.stdout);
    let start = dom.find("<pre id=\"results\">").expect("host page dumped") + 18;
    let end = start + dom[start..].find("</pre>").expect("end of results");
    let results: Vec<Value> = dom[start..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(&l.replace("&quot;", "\"").replace("&amp;", "&")))
        .collect::<Result<_, _>>()
        .expect("results are JSON");
    assert_eq!(results.len(), 2, "both widths reported: {dom}");
    let metrics: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).expect("json"))
            .expect("json");
    let ratio = metrics["findings"]["current"]["participation_ratio"]
        .as_f64()
        .expect("a current ratio");
    let mut widths: Vec<u64> = Vec::new();
    for r in &results {
        let w = r["width"].as_u64().expect("width");
        widths.push(w);
        assert!(
            r["scroll"].as_u64() <= Some(w),
            "the page scrolls sideways at {w} px: {r}"
        );
        let imgs = r["imgs"].as_array().expect("imgs");
        assert_eq!(imgs.len(), 4, "{r}");
        for i in imgs {
            assert_eq!(i["loaded"], true, "an image did not load at {w} px: {i}");
            assert!(i["alt"].as_str().is_some_and(|a| a.len() > 20), "{i}");
            assert!(i["width"].as_f64() <= Some(w as f64), "{i}");
        }
        let heads: Vec<u64> = r["heads"]
            .as_array()
            .expect("heads")
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        assert_eq!(heads.first(), Some(&1), "{heads:?}");
        assert!(
            heads.windows(2).all(|p| p[1] <= p[0] + 1),
            "headings skip a level: {heads:?}"
        );
        assert_eq!(r["findingsFirst"], true, "{r}");
        assert_eq!(
            r["ratio"].as_str().and_then(|v| v.parse::<f64>().ok()),
            Some(ratio)
        );
        let pct = format!("{:.1}%", ratio * 100.0);
        assert!(
            r["headline"].as_str().is_some_and(|h| h.starts_with(&pct)),
            "{r}"
        );
    }
    widths.sort_unstable();
    assert_eq!(widths, [390, 1280]);
}
