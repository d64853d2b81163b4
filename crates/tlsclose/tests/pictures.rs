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
        // one diagram per flow described, and no text ladder
        assert_eq!(b.len(), md.matches("\n### #").count(), "{name}");
        assert!(!md.contains("```text"), "{name}");
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

/// The colours of a PNG's pixels: how many distinct, and the share of
/// the pixels not of the commonest colour.
fn colours(png_path: &Path) -> (usize, f64) {
    let file = std::fs::File::open(png_path).expect("png");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let px = info.color_type.samples();
    let mut counts: std::collections::HashMap<&[u8], u64> = std::collections::HashMap::new();
    for p in buf[..info.buffer_size()].chunks(px) {
        *counts.entry(p).or_default() += 1;
    }
    let total: u64 = counts.values().sum();
    let common = counts.values().copied().max().unwrap_or(0);
    (counts.len(), (total - common) as f64 / total.max(1) as f64)
}

/// Run in the page: every `<details>` opened, then the box of every SVG
/// `<text>` against its SVG's box (as laid out: a text outside is clipped);
/// the result written into the DOM for `--dump-dom`.
const CLIP_CHECK: &str = r#"<script>
(() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const bad = [];
  let texts = 0;
  for (const svg of document.querySelectorAll('svg')) {
    const b = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      texts++;
      const r = t.getBoundingClientRect();
      const where = ' ' + svg.id + ': ' + t.textContent + ' [' + [r.left, r.right, r.top, r.bottom].map(Math.round)
        + ' in ' + [b.left, b.right, b.top, b.bottom].map(Math.round) + ']';
      if (r.width <= 0 || r.height <= 0) bad.push('UNDRAWN' + where);
      else if (r.left < b.left - 0.5 || r.right > b.right + 0.5 || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5)
        bad.push('CLIPPED' + where);
    }
  }
  const p = document.createElement('pre');
  p.id = 'clip-check';
  p.textContent = 'TEXTS ' + texts + '\n' + bad.join('\n') + '\nEND';
  document.body.append(p);
})();
</script>"#;

/// A text drawn past its SVG's right edge on purpose: the check must
/// name it.
const CLIPPED_ON_PURPOSE: &str = r#"<svg id="control" width="120" height="30" viewBox="0 0 120 30"><text x="60" y="20">clipped on purpose, far past the edge</text></svg>"#;

/// The report with the check in it, laid out by Chromium: how many texts
/// were measured, and the lines about those outside their SVG.
fn clip_check(html: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(html).expect("the report");
    let page = text.replacen(
        "</body>",
        &format!("{CLIPPED_ON_PURPOSE}{CLIP_CHECK}</body>"),
        1,
    );
    let checked = html.with_extension("check.html");
    std::fs::write(&checked, page).expect("write the page");
    let dom = chromium_dom(&checked);
    let result = dom
        .split("<pre id=\"clip-check\">")
        .nth(1)
        .and_then(|r| r.split("END</pre>").next())
        .unwrap_or_else(|| panic!("the check did not run:\n{dom}"));
    let mut lines = result.lines();
    let texts = lines
        .next()
        .and_then(|l| l.strip_prefix("TEXTS "))
        .and_then(|n| n.parse().ok())
        .expect("a count of texts");
    let bad = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
        })
        .collect();
    (texts, bad)
}

/// The histogram's tick labels, in seconds.
fn ticks(html: &str) -> Vec<f64> {
    html.split("class=\"small tick\">")
        .skip(1)
        .filter_map(|t| t.split('<').next())
        .map(|t| {
            let (v, unit) = t.split_once(' ').unwrap_or((t, "s"));
            let v: f64 = v.parse().unwrap_or_else(|_| panic!("a tick: {t}"));
            v * match unit {
                "s" => 1.0,
                "ms" => 1e-3,
                "µs" => 1e-6,
                u => panic!("a tick's unit: {u}"),
            }
        })
        .collect()
}

fn html_report(case_name: &str, name: &str) -> (PathBuf, String) {
    let html = tmp("pictures", name);
    let out = output(
        tlsclose!()
            .arg(case(case_name))
            .arg("--report")
            .arg(&html)
            .arg("-q"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&html).expect("the report");
    (html, text)
}

#[test]
fn html_report_opens_with_its_conclusion_and_keeps_the_layout() {
    for (c, name) in [
        ("audit-keepalive-race/capture.pcap", "order-race.html"),
        ("gen-mixed-1m/capture.pcap", "order-mixed.html"),
    ] {
        let (_, text) = html_report(c, name);
        // self-contained: nothing to fetch
        for fetch in ["http:", "https:", "src=", "@import", "url("] {
            assert!(!text.contains(fetch), "{name} fetches {fetch}");
        }
        assert!(text.starts_with("<!doctype html>"));
        // conclusion, findings, per-server table, charts, flows (a table
        // of contents, then collapsible ladders), what was read
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{name} has {needle}"))
        };
        let order = [
            "<h1>",
            "<section id=\"conclusion\">",
            "<h2 id=\"findings\">",
            "<table id=\"per-server\">",
            "<svg id=\"endings-chart\"",
            "<svg id=\"idle-histogram\"",
            "<nav id=\"toc\">",
            "<details class=\"flow\"",
            "<h2 id=\"about\">",
            "id=\"made-with\">Made with: tlsclose ",
        ];
        for w in order.windows(2) {
            assert!(at(w[0]) < at(w[1]), "{name}: {} before {}", w[0], w[1]);
        }
        // the conclusion: two to four sentences
        let conclusion = text
            .split("<p class=\"conclusion\">")
            .nth(1)
            .and_then(|c| c.split("</p>").next())
            .expect("a conclusion");
        let sentences = conclusion.matches(". ").count() + 1;
        assert!((2..=4).contains(&sentences), "{name}: {conclusion}");
        // every flow of the table of contents has its ladder
        let toc = text.split("<nav id=\"toc\">").nth(1).expect("toc");
        let toc = toc.split("</nav>").next().expect("toc");
        let links: Vec<&str> = toc
            .split("<a href=\"#")
            .skip(1)
            .filter_map(|l| l.split('"').next())
            .collect();
        assert!(!links.is_empty(), "{name}");
        for l in &links {
            assert!(
                text.contains(&format!("<details class=\"flow\" id=\"{l}\">")),
                "{name}: {l}"
            );
        }
        assert_eq!(links.len(), text.matches("<details class=\"flow\"").count());
        // the capture, its time span and the command line
        for s in ["Capture: <code>", "time span 20", "--report"] {
            assert!(text.contains(s), "{name}: {s}");
        }
    }
    // the conclusion says what the findings say, with their numbers
    let (_, text) = html_report("audit-keepalive-race/capture.pcap", "words-race.html");
    for s in [
        "26 of 42 TLS connections ended cleanly (close_notify, then FIN); 16 ended with a FIN alone.",
        "12 requests raced the servers&#39; idle timeouts (2.00s, 1.50s and 1.00s)",
        "keep the clients&#39; idle timeout under 1.00s (e.g. 700ms)",
    ] {
        assert!(text.contains(s), "{s}:\n{text}");
    }
    let (_, text) = html_report("gen-mixed-1m/capture.pcap", "words-mixed.html");
    for s in [
        "39 of 106 TLS connections ended cleanly",
        "2 requests raced the servers&#39; closes of idle connections",
        "5 servers reset idle connections",
        "4 more findings below: truncation-risk, no-close-notify, client-reset and idle-timeout.",
    ] {
        assert!(text.contains(s), "{s}");
    }
}

#[test]
fn html_report_axis_ticks_are_round_and_timeouts_on_top() {
    for (c, name) in [
        ("audit-keepalive-race/capture.pcap", "ticks-race.html"),
        ("gen-mixed-1m/capture.pcap", "ticks-mixed.html"),
    ] {
        let (_, text) = html_report(c, name);
        let t = ticks(&text);
        assert!(t.len() >= 3, "{name}: {t:?}");
        assert_eq!(t[0], 0.0, "{name}");
        let step = t[1];
        let mag = 10f64.powf(step.log10().floor());
        let mantissa = step / mag;
        assert!(
            [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-9),
            "{name}: a step of {step}"
        );
        for (k, v) in t.iter().enumerate() {
            assert!((v - step * k as f64).abs() < step * 1e-6, "{name}: {t:?}");
        }
        // the dashed timeouts come after every bar: drawn on top
        let hist = text
            .split("<svg id=\"idle-histogram\"")
            .nth(1)
            .and_then(|h| h.split("</svg>").next())
            .expect("a histogram");
        let last_bin = hist.rfind("class=\"bin\"").expect("bins");
        if let Some(first_timeout) = hist.find("class=\"timeout\"") {
            assert!(first_timeout > last_bin, "{name}");
        }
    }
    let (_, text) = html_report("audit-keepalive-race/capture.pcap", "ticks-race2.html");
    let labels: Vec<&str> = text
        .split("class=\"small tick\">")
        .skip(1)
        .filter_map(|t| t.split('<').next())
        .collect();
    assert_eq!(labels, ["0", "500 ms", "1 s", "1.5 s", "2 s", "2.5 s"]);
    assert_eq!(text.matches("<line class=\"timeout\"").count(), 3);
}

#[test]
fn html_report_draws_nothing_clipped_in_headless_chromium() {
    if !require_tool("chromium") {
        return;
    }
    for (c, name, race) in [
        (
            "audit-keepalive-race/capture.pcap",
            "clip-race.html",
            Some(
                "keep-alive race: 0.105s after the server&#39;s close, answered by RST (frame 550)",
            ),
        ),
        ("gen-mixed-1m/capture.pcap", "clip-mixed.html", None),
    ] {
        let (html, text) = html_report(c, name);
        let (texts, bad) = clip_check(&html);
        // every text of every chart and ladder was measured
        let written = text.matches("<text ").count();
        assert_eq!(
            texts,
            written + 1,
            "{name}: the page's texts and the control"
        );
        // and only the one clipped on purpose is outside its SVG
        assert_eq!(bad.len(), 1, "{name}: {bad:#?}");
        assert!(
            bad[0].starts_with("CLIPPED control: clipped on purpose"),
            "{bad:?}"
        );
        if let Some(race) = race {
            // the race's arrow and its label, whole
            assert!(text.contains(">+1.108s · frame 549 · TLS application_data (54 bytes)<"));
            assert!(text.contains(race), "{name}");
        }
    }
}

#[test]
fn html_report_screenshot_is_not_blank() {
    if !require_tool("chromium") {
        return;
    }
    let (html, text) = html_report("audit-keepalive-race/capture.pcap", "shot.html");
    assert!(text.contains("<svg id=\"endings-chart\""));
    let png = tmp("pictures", "report.png");
    chromium_png(&html, &png);
    let head = std::fs::read(&png).expect("png");
    assert!(head.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (n, share) = colours(&png);
    // text, bars in five endings' colours, the histogram's blues
    assert!(n >= 16, "{n} colours");
    assert!(share > 0.05, "{:.1}% of the pixels drawn", share * 100.0);
    // the check can fail: an empty page is one colour
    let blank = tmp("pictures", "blank.html");
    std::fs::write(&blank, "<!doctype html><html><body></body></html>").expect("blank");
    let blank_png = tmp("pictures", "blank.png");
    chromium_png(&blank, &blank_png);
    assert_eq!(colours(&blank_png), (1, 0.0));
}
