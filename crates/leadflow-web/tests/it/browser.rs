//! End to end in a browser: the dashboard served on 127.0.0.1 over generated contacts and
//! opened in headless Chromium (Debian's `chromium`). Every widget, metric, breakdown cell,
//! panel figure and chart (each drawn value) of the rendered DOM is compared with the JSON
//! API, and screenshots at laptop size are kept under `<target>/e2e/` for CI.
//!
//! Without Chromium it prints `skipped: ...` and passes, unless `LEADFLOW_REQUIRE_BROWSER=1`
//! (CI), where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{figure, fixture};

/// Chromium's binary: `LEADFLOW_CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LEADFLOW_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// The cargo target directory: `CARGO_TARGET_DIR`, else three levels above this test
/// binary (`target/debug/deps/it-…`).
fn target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

/// Runs headless Chromium with `args` and returns its stdout.
async fn run_chromium(bin: &Path, profile: &Path, args: &[String]) -> String {
    let out = tokio::process::Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "chromium {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Text as Chromium serializes it, back to characters.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// The text between `start` (after `from`) and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let j = text[i..].find(end)?;
    Some(&text[i..i + j])
}

/// Every tile of the DOM: its `data-metric` → the text of its value.
fn tiles(dom: &str) -> BTreeMap<String, String> {
    dom.split(r#"class="tile" data-metric=""#)
        .skip(1)
        .filter_map(|chunk| {
            let key = chunk.split('"').next()?;
            let value = between(chunk, r#"class="value"#, "</div>")?;
            let text = value.split_once('>')?.1;
            Some((key.to_owned(), unescape(text.trim())))
        })
        .collect()
}

/// The cells of one breakdown table: (group, metric) → text.
fn cells(dom: &str, property: &str) -> BTreeMap<(String, String), String> {
    let table = between(dom, &format!(r#"data-breakdown="{property}""#), "</table>")
        .unwrap_or_else(|| panic!("no breakdown table for {property}"));
    let mut out = BTreeMap::new();
    for row in table.split(r#"<tr data-group=""#).skip(1) {
        let group = unescape(row.split('"').next().unwrap_or_default());
        for cell in row.split(r#"<td data-metric=""#).skip(1) {
            let metric = cell.split('"').next().unwrap_or_default().to_owned();
            let text = between(cell, ">", "</td>").unwrap_or_default();
            out.insert((group.clone(), metric), unescape(text.trim()));
        }
    }
    out
}

/// The marks charts-rs drew in one chart's SVG: (series, category, value) from each
/// element's `data-series`, `data-category` (none on a funnel's stages) and `data-value`
/// (rounded to one decimal, so a percentage to a tenth of a point).
fn marks(svg: &str) -> Vec<(String, String, f64)> {
    svg.split("<")
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            let series = between(tag, r#"data-series=""#, "\"")?;
            let value = between(tag, r#"data-value=""#, "\"")?.parse().ok()?;
            let category = between(tag, r#"data-category=""#, "\"").unwrap_or_default();
            Some((unescape(series), unescape(category), value))
        })
        .collect()
}

/// Checks the `<figure data-chart>` in `scope` against the API's `chart`: every point with
/// a value drawn with that value, nothing else drawn, and an empty chart saying no data.
fn check_chart(scope: &str, chart: &serde_json::Value) {
    let name = chart["name"].as_str().unwrap();
    let key = leadflow_web::slug(name);
    let figure = between(scope, &format!(r#"data-chart="{key}""#), "</figure>")
        .unwrap_or_else(|| panic!("no chart {key}"));
    let svg = between(figure, "<svg", "</svg>").unwrap_or_else(|| panic!("{key} has no SVG"));
    let points = |s: &serde_json::Value| s["points"].as_array().unwrap().clone();
    let series = chart["series"].as_array().unwrap();
    let valued = series
        .iter()
        .flat_map(points)
        .filter(|p| p["value"].is_f64() || p["value"].is_i64())
        .count();
    if valued == 0 {
        assert!(
            figure.starts_with(r#" data-empty="true""#),
            "{key}: {figure}"
        );
        assert!(svg.contains(">no data</text>"), "{key}: {svg}");
        return;
    }
    let scale = if chart["unit"] == "ratio" { 100.0 } else { 1.0 };
    let mut expected = Vec::new();
    for s in series {
        for p in points(s) {
            let label = p["label"].as_str().unwrap().to_owned();
            let value = p["value"].as_f64();
            match (chart["kind"].as_str(), value) {
                // A funnel draws each stage as a series; a stage without data as 0.
                (Some("funnel"), v) => expected.push((
                    if v.is_some() {
                        label
                    } else {
                        format!("{label} (no data)")
                    },
                    String::new(),
                    v.unwrap_or_default() * scale,
                )),
                (_, Some(v)) => {
                    expected.push((s["name"].as_str().unwrap().to_owned(), label, v * scale))
                }
                (_, None) => {}
            }
        }
        if chart["kind"] == "funnel" {
            break;
        }
    }
    let drawn: Vec<(String, String, f64)> = marks(svg)
        .into_iter()
        .map(|(s, c, v)| (s, c.trim_end_matches(" (no data)").to_owned(), v))
        .collect();
    assert_eq!(
        drawn.len(),
        expected.len(),
        "{key}: drawn {drawn:?}, expected {expected:?}"
    );
    for (s, c, v) in &expected {
        assert!(
            drawn
                .iter()
                .any(|(ds, dc, dv)| ds == s && dc == c && (dv - v).abs() <= 0.05 + 1e-6 * v.abs()),
            "{key}: {s} {c} = {v} is not drawn; drawn: {drawn:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_report_render_in_chromium_with_the_apis_numbers() {
    let Some(bin) = chromium() else {
        if std::env::var("LEADFLOW_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "LEADFLOW_REQUIRE_BROWSER=1 but chromium is not installed (apt-get install chromium)"
            );
        }
        println!(
            "skipped: chromium not found (install Debian's chromium, or set LEADFLOW_CHROMIUM) for the dashboard's browser test"
        );
        return;
    };
    let f = fixture(600).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = leadflow_web::router(f.state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let profile = tempfile::tempdir().unwrap();
    // reqwest is built without a default TLS provider (see crates.md).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let api = |path: String| {
        let http = http.clone();
        async move {
            let r = http.get(path).send().await.unwrap();
            assert!(r.status().is_success());
            r.json::<serde_json::Value>().await.unwrap()
        }
    };

    // The dashboard: every configured widget, with the API's display.
    let dom = run_chromium(
        &bin,
        profile.path(),
        &["--dump-dom".to_owned(), format!("{base}/")],
    )
    .await;
    let dash = api(format!("{base}/api/dashboard/session_dashboard")).await;
    let shown = tiles(&dom);
    let widgets = dash["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), leadflow_config::reports::WIDGETS.len());
    for w in widgets {
        let key = leadflow_web::slug(w["name"].as_str().unwrap());
        assert_eq!(
            shown.get(&key).map(String::as_str),
            w["display"].as_str(),
            "widget {key} in {shown:?}"
        );
    }
    assert!(
        figure(&dash["widgets"], "Total Leads Generated (30 days)")["value"]["count"]
            .as_i64()
            .unwrap()
            > 100
    );
    // Every report of the dashboard: its figures and its chart.
    let panels = dash["panels"].as_array().unwrap();
    assert_eq!(
        panels.len(),
        leadflow_config::reports::DASHBOARD_REPORTS.len()
    );
    for p in panels {
        let key = leadflow_web::slug(p["name"].as_str().unwrap());
        let scope = dom
            .split(r#"<div class="panel" data-panel=""#)
            .find(|chunk| chunk.starts_with(&format!("{key}\"")))
            .unwrap_or_else(|| panic!("no panel {key}"));
        for f in p["figures"].as_array().unwrap() {
            let metric = leadflow_web::slug(f["name"].as_str().unwrap());
            let shown = between(scope, &format!(r#"data-metric="{metric}""#), "</dd>")
                .and_then(|d| d.rsplit_once('>'))
                .map(|(_, text)| unescape(text));
            assert_eq!(shown.as_deref(), f["display"].as_str(), "{key} {metric}");
        }
        check_chart(scope, &p["chart"]);
    }

    // The report: its metrics and every breakdown cell.
    let url = format!("{base}/reports/lead_generation_report?since=30d");
    let dom = run_chromium(
        &bin,
        profile.path(),
        &["--dump-dom".to_owned(), url.clone()],
    )
    .await;
    let report = api(format!(
        "{base}/api/reports/lead_generation_report?since=30d"
    ))
    .await;
    let shown = tiles(&dom);
    for m in report["metrics"].as_array().unwrap() {
        let key = leadflow_web::slug(m["name"].as_str().unwrap());
        assert_eq!(
            shown.get(&key).map(String::as_str),
            m["display"].as_str(),
            "{key}"
        );
    }
    let breakdowns = report["breakdowns"].as_array().unwrap();
    assert_eq!(breakdowns.len(), 4);
    for b in breakdowns {
        let property = b["property"].as_str().unwrap();
        let table = cells(&dom, property);
        let mut expected = 0;
        for g in b["groups"].as_array().unwrap() {
            let group = g["value"].as_str().unwrap_or_default().to_owned();
            for m in g["metrics"].as_array().unwrap() {
                let metric = leadflow_web::slug(m["name"].as_str().unwrap());
                assert_eq!(
                    table
                        .get(&(group.clone(), metric.clone()))
                        .map(String::as_str),
                    m["display"].as_str(),
                    "{property} {group} {metric}"
                );
                expected += 1;
            }
        }
        assert!(
            expected > 0 && table.len() == expected,
            "{property}: {table:?}"
        );
    }
    let charts = report["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 4, "the report's four charts");
    for c in charts {
        check_chart(&dom, c);
    }
    assert!(!dom.contains("NaN"));
    // The campaign named like markup stayed text: no element came of it.
    assert!(!dom.contains("<script>alert"), "{dom}");
    assert!(
        dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "{dom}"
    );

    // Screenshots at laptop size, kept for CI.
    let dir = target_dir().join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, url) in [
        ("dashboard", format!("{base}/")),
        ("report", url),
        ("advice", format!("{base}/advice?month=2026-03")),
    ] {
        let png = dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        run_chromium(
            &bin,
            profile.path(),
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1366,900".to_owned(),
                url,
            ],
        )
        .await;
        let bytes = std::fs::read(&png).unwrap();
        assert!(
            bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"),
            "{} is not a screenshot",
            png.display()
        );
    }
    server.abort();
}
