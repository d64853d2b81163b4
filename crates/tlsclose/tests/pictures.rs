//! Pictures for people: the Markdown report's Mermaid sequence diagrams,
//! checked against the grammar of what we write, and rendered by the real
//! Mermaid (npm, installed by scripts/get-mermaid.sh into target/mermaid)
//! in headless Chromium when both are there; the HTML report rendered by
//! headless Chromium. Missing tools skip visibly (Chromium: fails under
//! CI=true).

use std::path::{Path, PathBuf};
use std::process::Command;
use tlsclose_testkit::cli::{output, stderr};
use tlsclose_testkit::paths::{case, tmp, workspace};
use tlsclose_testkit::tlsclose;
use tlsclose_testkit::tools::require_tool;

/// The ```mermaid blocks of a Markdown text.
fn mermaid_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match (&mut cur, line) {
            (None, "```mermaid") => cur = Some(String::new()),
            (Some(b), "```") => {
                out.push(std::mem::take(b));
                cur = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    assert!(cur.is_none(), "an unclosed mermaid block");
    out
}

/// The subset of Mermaid's sequenceDiagram grammar we write: participant
/// declarations, notes and messages with the arrows `->>`, `-)`, `-x`;
/// texts without `;`, `#` or HTML.
fn check_grammar(block: &str) -> Result<(), String> {
    let mut lines = block.lines();
    if lines.next() != Some("sequenceDiagram") {
        return Err("does not start with sequenceDiagram".into());
    }
    let ids = ["C", "S"];
    let text_ok =
        |t: &str| !t.trim().is_empty() && !t.contains([';', '#', '<', '>', '{', '}', '"', '`']);
    for l in lines {
        let l = l.trim_start();
        if let Some(rest) = l.strip_prefix("participant ") {
            let (id, label) = rest.split_once(" as ").ok_or(format!("participant: {l}"))?;
            if !ids.contains(&id) || !text_ok(label) {
                return Err(format!("participant: {l}"));
            }
        } else if let Some(rest) = l.strip_prefix("Note over ") {
            let (who, text) = rest.split_once(": ").ok_or(format!("note: {l}"))?;
            if !who.split(',').all(|w| ids.contains(&w)) || !text_ok(text) {
                return Err(format!("note: {l}"));
            }
        } else {
            let (head, text) = l.split_once(": ").ok_or(format!("message: {l}"))?;
            let ok = ["->>", "-)", "-x"].iter().any(|a| {
                head.split_once(a)
                    .is_some_and(|(f, t)| ids.contains(&f) && ids.contains(&t) && f != t)
            });
            if !ok || !text_ok(text) {
                return Err(format!("message: {l}"));
            }
        }
    }
    Ok(())
}

fn report_md(cap: &Path, name: &str) -> String {
    let path = tmp("pictures", name);
    let out = output(tlsclose!().arg(cap).arg("--report").arg(&path).arg("-q"));
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(&path).expect("the report")
}

fn mermaid_js() -> Option<PathBuf> {
    let p = std::env::var("TLSCLOSE_MERMAID_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            workspace().join("target/mermaid/node_modules/mermaid/dist/mermaid.min.js")
        });
    p.is_file().then_some(p)
}

/// Renders `html` in headless Chromium and returns the DOM after scripts ran.
fn chromium_dom(html: &Path) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=20000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn markdown_report_diagrams_follow_the_grammar_and_render_in_mermaid() {
    let mut blocks = Vec::new();
    for (c, name) in [
        ("audit-keepalive-race/capture.pcap", "race.md"),
        ("sample/capture.pcap", "sample.md"),
        ("fmt-ipv6/capture.pcap", "v6.md"),
    ] {
        let md = report_md(&case(c), name);
        let b = mermaid_blocks(&md);
        // one diagram per flow described, each after its ladder
        assert_eq!(b.len(), md.matches("```text\n").count(), "{name}");
        blocks.extend(b);
    }
    assert!(blocks.len() >= 20, "{}", blocks.len());
    for b in &blocks {
        check_grammar(b).unwrap_or_else(|e| panic!("{e}\n{b}"));
    }
    // the grammar check catches what Mermaid would not read
    assert!(check_grammar("sequenceDiagram\n    C->>S: a; b\n").is_err());
    assert!(check_grammar("sequenceDiagram\n    C=>S: x\n").is_err());

    // and the real renderer, when installed
    let Some(js) = mermaid_js() else {
        tlsclose_testkit::tools::skip(
            "the real Mermaid renderer is not installed: run scripts/get-mermaid.sh (the grammar \
             check ran)",
        );
        return;
    };
    if !require_tool("chromium") {
        return;
    }
    // every diagram, plus one broken on purpose (the check can fail)
    let mut pre = String::new();
    for (i, b) in blocks.iter().enumerate() {
        pre.push_str(&format!(
            "<pre class=\"mermaid\" id=\"d{i}\">{}</pre>\n",
            escape(b)
        ));
    }
    pre.push_str("<pre class=\"bad\" id=\"broken\">sequenceDiagram\n  C=>>S hello\n</pre>\n");
    let page = format!(
        r#"<!doctype html><html><body>{pre}<div id="errors"></div>
<script src="file://{js}"></script>
<script>
mermaid.initialize({{startOnLoad: false}});
(async () => {{
  const out = document.getElementById('errors');
  for (const el of document.querySelectorAll('pre')) {{
    try {{ await mermaid.parse(el.textContent); }}
    catch (e) {{ out.append('PARSE' + '-ERROR ' + el.id + '|'); }}
  }}
  await mermaid.run({{querySelector: 'pre.mermaid'}});
  document.body.setAttribute('data-done', 'yes');
}})();
</script></body></html>"#,
        js = js.display()
    );
    let html = tmp("pictures", "mermaid.html");
    std::fs::write(&html, page).expect("write page");
    let dom = chromium_dom(&html);
    assert!(dom.contains("data-done=\"yes\""), "Mermaid did not finish");
    let errors: Vec<&str> = dom
        .match_indices("PARSE-ERROR ")
        .map(|(i, _)| &dom[i..])
        .collect();
    assert_eq!(errors.len(), 1, "only the broken diagram fails: {errors:?}");
    assert!(errors[0].starts_with("PARSE-ERROR broken|"));
    // each diagram became an SVG
    assert_eq!(dom.matches("<svg").count(), blocks.len());
}

fn chromium_png(html: &Path, png: &Path) {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,1400",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("run chromium");
    assert!(png.is_file(), "no screenshot: {}", stderr(&out));
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let html = tmp("pictures", "report.html");
    let out = output(
        tlsclose!()
            .arg(case("audit-keepalive-race/capture.pcap"))
            .arg("--report")
            .arg(&html)
            .arg("-q"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&html).expect("the report");
    // self-contained: nothing to fetch
    for fetch in ["http:", "https:", "src=", "@import", "url("] {
        assert!(!text.contains(fetch), "the report fetches {fetch}");
    }
    assert!(text.starts_with("<!doctype html>"));
    if !require_tool("chromium") {
        return;
    }
    let dom = chromium_dom(&html);
    // what was drawn: the bar chart (3 servers, 2 endings each), the
    // histogram with the 3 timeouts found, a ladder per flow shown
    assert!(dom.contains("id=\"endings-chart\""), "{dom}");
    assert_eq!(dom.matches("<rect class=\"bar\"").count(), 6);
    assert!(dom.contains("id=\"idle-histogram\""));
    assert!(dom.matches("<rect class=\"bin\"").count() >= 6);
    assert_eq!(dom.matches("<line class=\"timeout\"").count(), 3);
    let shown = text.matches("<section class=\"flow\">").count();
    assert!(shown >= 12, "{shown}");
    assert_eq!(dom.matches("class=\"ladder\"").count(), shown);
    assert_eq!(dom.matches("class=\"arrow race\"").count(), 12);
    // and it is not blank: a screenshot of it against one of an empty page
    let png = tmp("pictures", "report.png");
    chromium_png(&html, &png);
    let blank = tmp("pictures", "blank.html");
    std::fs::write(&blank, "<!doctype html><html><body></body></html>").expect("blank");
    let blank_png = tmp("pictures", "blank.png");
    chromium_png(&blank, &blank_png);
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let (ours, empty) = (size(&png), size(&blank_png));
    assert!(
        ours > 10 * empty.max(1),
        "the screenshot looks blank: {ours} bytes vs {empty} for an empty page"
    );
    let head = std::fs::read(&png).expect("png");
    assert!(head.starts_with(b"\x89PNG\r\n\x1a\n"));
}
