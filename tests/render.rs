//! Render mode against local pages whose banners are injected by script, in a real Chromium.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use cookie_audit::facts::{Coverage, Mode, TcfMoment};
use cookie_audit::pipeline::{self, RunOptions};
use cookie_audit::report::{Format, PageReport};
use cookie_audit::rules::Confidence;

/// One Chromium at a time: a test checks that no Chromium outlives its run, which another
/// test's browser would.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The "tracker" host, resolved to 127.0.0.1 by Chromium's host-resolver rules.
const TRACKER_HOST: &str = "www.googletagmanager.com";

fn banner_js(place: &str, on_reject: &str) -> String {
    format!(
        r#"<script>
setTimeout(function () {{
  var html = '<div id="consent-notice" role="dialog" aria-label="Cookie consent" style="position:fixed;bottom:0;left:0;right:0;background:#fff;padding:16px;border-top:1px solid #ccc">' +
    '<p>We and our partners use cookies for audience measurement and personalised advertising. You can change your choices at any time. <a href="/privacy">Privacy policy</a></p>' +
    '<button id="accept" style="background:#0a5;color:#fff;padding:10px 20px">Accept all</button> ' +
    '<button id="reject" style="background:#0a5;color:#fff;padding:10px 20px">Reject all</button></div>';
  var root = {place};
  root.getElementById('accept').addEventListener('click', function () {{ document.cookie = '_ga=GA1.1.1.1; path=/; max-age=63072000'; }});
  root.getElementById('reject').addEventListener('click', function () {{ document.cookie = 'cookie_consent=rejected; path=/; max-age=15552000'; {on_reject} }});
}}, 400);
</script>"#
    )
}

/// A banner whose only refusal is in its settings layer: untick the purposes, then save. `switch`
/// draws one purpose switch (`{id}` and `{label}` filled in); `is_on` reads one in script.
fn settings_banner_js(switch: &str, is_on: &str, load_tracker: &str) -> String {
    let switches: String = [
        ("analytics", "Audience measurement"),
        ("ads", "Personalised advertising"),
    ]
    .iter()
    .map(|(id, label)| switch.replace("{id}", id).replace("{label}", label))
    .collect();
    format!(
        r#"<script>
setTimeout(function () {{
  var box = document.createElement('div');
  box.id = 'cookie-law-info-bar'; box.setAttribute('role', 'dialog'); box.setAttribute('aria-label', 'Cookie settings');
  box.style.cssText = 'position:fixed;bottom:0;left:0;right:0;background:#fff;padding:16px;border-top:1px solid #ccc';
  box.innerHTML = '<div id="first"><p>We use cookies to measure our audience and to show personalised advertising. You can accept them all or choose which ones we may use. <a href="/privacy">Privacy policy</a></p>' +
    '<button id="accept" style="padding:10px 20px">Accept all</button> <button id="customise" style="padding:10px 20px">Customise</button></div>' +
    '<div id="second" style="display:none"><p>Choose the purposes you agree to.</p>{switches}' +
    '<button id="save" style="padding:10px 20px">Save my choices</button></div>';
  document.body.appendChild(box);
  var on = function (id) {{ {is_on} }};
  box.querySelector('#accept').addEventListener('click', function () {{ box.remove(); {load_tracker} }});
  box.querySelector('#customise').addEventListener('click', function () {{
    box.querySelector('#first').style.display = 'none'; box.querySelector('#second').style.display = 'block';
  }});
  box.querySelector('#save').addEventListener('click', function () {{
    document.cookie = 'cookie_consent=' + (on('analytics') ? 'analytics' : 'none') + '; path=/; max-age=15552000';
    box.remove();
    if (on('analytics')) {{ {load_tracker} }}
  }});
}}, 400);
</script>"#
    )
}

/// Real checkboxes, ticked in advance: unticking them and saving refuses.
const CHECKBOX: &str = r#"<label><input type="checkbox" id="c-{id}" checked> {label}</label>"#;
const CHECKBOX_ON: &str = "return box.querySelector('#c-' + id).checked;";
/// Switches drawn with spans and a class, which nothing outside the page's script can read.
const SPAN_SWITCH: &str = r#"<p><span class="toggle is-on" id="t-{id}" onclick="this.classList.toggle(\'is-on\')"></span> {label}</p>"#;
const SPAN_ON: &str = "return box.querySelector('#t-' + id).classList.contains('is-on');";

const IN_BODY: &str = "(function(){ var d = document.createElement('div'); document.body.appendChild(d); d.innerHTML = html; return document; })()";
const IN_SHADOW: &str = "(function(){ var h = document.createElement('div'); h.id = 'cmp-host'; document.body.appendChild(h); var s = h.attachShadow({mode: 'open'}); s.innerHTML = html; return s; })()";

fn page(title: &str, head: &str, body: &str) -> Response {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>{head}</head>\
         <body><header><nav><a href=\"/\">Home</a> <a href=\"/shop\">Shop</a></nav></header>\
         <main><h1>{title}</h1><p>Our roastery sends fresh beans every week to subscribers across Europe.</p></main>{body}</body></html>"
    ))
    .into_response()
}

async fn route(Path(name): Path<String>, State(port): State<u16>) -> Response {
    let tracker =
        format!("<script src=\"http://{TRACKER_HOST}:{port}/gtag/js?id=G-TEST\"></script>");
    let load_tracker = format!(
        "var t = document.createElement('script'); t.src = 'http://{TRACKER_HOST}:{port}/gtag/js?id=G-LATE'; document.head.appendChild(t); document.cookie = '_ga=GA1.1.2.2; path=/; max-age=63072000';"
    );
    match name.as_str() {
        "honours" => page("Honours refusal", "", &banner_js(IN_BODY, "")),
        "shop" => page("Shop", "", &banner_js(IN_SHADOW, "")),
        "inline-banner" => page(
            "Banner in the markup",
            "",
            "<div id=\"cookie-banner\" role=\"dialog\" aria-label=\"Cookie consent\"><p>We use cookies for audience measurement and advertising. <a href=\"/privacy\">Privacy policy</a></p><button>Accept all</button> <button>Reject all</button></div>",
        ),
        "shadow" => page("Shadow root banner", "", &banner_js(IN_SHADOW, "")),
        "ignores" => page("Ignores refusal", "", &banner_js(IN_BODY, &load_tracker)),
        "tracks-early" => page(
            "Tracks before consent",
            &format!(
                "<script>document.cookie = '_ga=GA1.1.9.9; path=/; max-age=63072000';</script>{tracker}"
            ),
            &banner_js(IN_BODY, ""),
        ),
        "framed" => page(
            "Framed banner",
            "",
            &format!(
                "<iframe src=\"http://localhost:{port}/frame\" style=\"position:fixed;bottom:0;width:100%;height:220px;border:0\"></iframe>"
            ),
        ),
        "settings-checkboxes" => page(
            "Refusal through settings",
            "",
            &settings_banner_js(CHECKBOX, CHECKBOX_ON, &load_tracker),
        ),
        "settings-spans" => page(
            "Refusal through settings the auditor cannot read",
            "",
            &settings_banner_js(SPAN_SWITCH, SPAN_ON, &load_tracker),
        ),
        // Elements carrying the handles an earlier snapshot format used, placed before the banner
        // so that a lookup by handle would find them first: a click on them plants a cookie.
        "planted" => page(
            "Planted handles",
            "",
            &format!(
                "<div>{}</div>{}",
                (0..80)
                    .map(|i| format!(
                        "<span data-cookie-audit-id=\"m-{i}\" data-cookie-audit-box=\"0.900\" onclick=\"document.cookie='planted=1; path=/'\"></span>"
                    ))
                    .collect::<String>(),
                banner_js(IN_BODY, "")
            ),
        ),
        // A TCF consent platform whose API grants consent before any choice and keeps it after
        // "Reject all".
        "tcf" => page(
            "TCF consent string",
            "<script>window.__tcfapi = function (command, version, callback) { if (command === 'getTCData') { callback({tcString: 'CQgYw8AQgYw8AAHADBFRB4EAAPLAAAAAAAqIAOMBAAJAAAAA', gdprApplies: true}, true); } };</script>",
            &banner_js(IN_BODY, ""),
        ),
        "frame" => Html(format!(
            "<!DOCTYPE html><html lang=\"en\"><body>{}</body></html>",
            banner_js(IN_BODY, "")
        ))
        .into_response(),
        _ => (axum::http::StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

async fn gtag() -> Response {
    (
        [(header::CONTENT_TYPE, "application/javascript")],
        "window.dataLayer = window.dataLayer || [];",
    )
        .into_response()
}

async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/gtag/js", get(gtag))
        .route("/{name}", get(route))
        .with_state(addr.port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn settings(targets: Vec<String>, out: &std::path::Path) -> RunOptions {
    RunOptions {
        mode: Mode::Render,
        formats: vec![Format::Json, Format::Html],
        concurrency: 3,
        banner_wait: Duration::from_secs(4),
        browser_args: vec![format!(
            "--host-resolver-rules=MAP {TRACKER_HOST} 127.0.0.1"
        )],
        ..RunOptions::unattended(targets, out, Duration::from_secs(15))
    }
}

fn rules_of(p: &PageReport) -> Vec<&str> {
    p.findings.iter().map(|f| f.rule.as_str()).collect()
}

fn chromium_processes_using(dir_marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .filter(|c| String::from_utf8_lossy(c).contains(dir_marker))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_mode_sees_injected_banners_and_what_reject_does() {
    let _one = ONE_BROWSER.lock().await;
    let addr = start().await;
    let out = tempfile::tempdir().unwrap();
    let url = |p: &str| format!("http://{addr}/{p}");
    let names = [
        "honours",
        "shadow",
        "framed",
        "ignores",
        "tracks-early",
        "planted",
        "tcf",
    ];
    let through_settings = ["settings-checkboxes", "settings-spans"];
    let all = names.iter().chain(&through_settings).map(|n| url(n));
    let outcome = pipeline::run(settings(all.collect(), out.path()))
        .await
        .expect("render run");
    let page = |n: &str| {
        outcome
            .report
            .pages
            .iter()
            .find(|p| p.input == url(n))
            .unwrap()
    };

    for n in names {
        let p = page(n);
        assert!(p.error.is_none(), "{n}: {:?}", p.error);
        let banner = p
            .facts
            .banner
            .as_ref()
            .unwrap_or_else(|| panic!("{n}: no banner"));
        assert!(banner.present, "{n}: banner not seen");
        let roles: Vec<_> = banner
            .buttons
            .iter()
            .map(|b| (b.label.as_str(), b.role.as_str()))
            .collect();
        assert!(
            roles.contains(&("Accept all", "accept")) && roles.contains(&("Reject all", "reject")),
            "{n}: {roles:?}"
        );
        let render = p.facts.render.as_ref().unwrap();
        let shot = render.screenshot.as_deref().expect("screenshot");
        assert!(
            shot.starts_with("screenshots/"),
            "{n}: {shot} is not relative to the report"
        );
        assert!(
            std::fs::metadata(out.path().join(shot)).unwrap().len() > 1000,
            "{n}: empty screenshot"
        );
        let accept = banner
            .buttons
            .iter()
            .find(|b| b.role.as_str() == "accept")
            .unwrap();
        let style = accept.style.as_ref().expect("rendered style");
        assert!(
            style.width > 20.0 && style.in_viewport && style.contrast > 2.0,
            "{n}: {style:?}"
        );
        let interaction = render.interaction.as_ref().expect("reject was clicked");
        assert_eq!(
            (interaction.clicks, interaction.error.as_deref()),
            (Some(1), None),
            "{n}"
        );
    }

    let honours = page("honours");
    assert!(
        !rules_of(honours).contains(&"reject-not-honoured"),
        "{:?}",
        honours.findings
    );
    assert!(
        honours
            .facts
            .render
            .as_ref()
            .unwrap()
            .interaction
            .as_ref()
            .unwrap()
            .cookies_after
            .iter()
            .all(|c| c.name != "_ga")
    );

    let ignores = page("ignores");
    assert!(
        rules_of(ignores).contains(&"reject-not-honoured"),
        "{:?}",
        ignores.findings
    );
    let after = ignores
        .facts
        .render
        .as_ref()
        .unwrap()
        .interaction
        .as_ref()
        .unwrap();
    assert!(after.cookies_after.iter().any(|c| c.name == "_ga"));
    assert!(after.trackers_after.iter().any(|t| t.host == TRACKER_HOST));

    // A click goes to the control the snapshot saw, whatever handles the page wrote itself.
    let planted = page("planted").facts.render.as_ref().unwrap();
    let jar = &planted.interaction.as_ref().unwrap().cookies_after;
    assert!(
        jar.iter().any(|c| c.name == "cookie_consent") && jar.iter().all(|c| c.name != "planted"),
        "{jar:?}"
    );

    // Refusing in the settings layer: untick and save. With real checkboxes the auditor knows it
    // refused; with switches it cannot read, tracking after "save" is only a possible failure.
    let interaction = |n: &str| {
        page(n)
            .facts
            .render
            .as_ref()
            .and_then(|r| r.interaction.clone())
            .unwrap_or_else(|| panic!("{n}: no interaction"))
    };
    let honest = interaction("settings-checkboxes");
    assert_eq!(
        (
            honest.clicks,
            honest.error.as_deref(),
            honest.doubt.as_deref()
        ),
        (Some(3), None, None)
    );
    assert!(
        !rules_of(page("settings-checkboxes")).contains(&"reject-not-honoured"),
        "{:?}",
        page("settings-checkboxes").findings
    );
    let unreadable = interaction("settings-spans");
    assert_eq!(
        (unreadable.clicks, unreadable.error.as_deref()),
        (Some(3), None)
    );
    assert!(unreadable.doubt.is_some());
    let finding = page("settings-spans")
        .findings
        .iter()
        .find(|f| f.rule == "reject-not-honoured")
        .expect("tracking after the save is reported");
    assert_eq!(finding.confidence, Confidence::Possible);
    assert!(
        finding.message.contains("may not have been recorded"),
        "{}",
        finding.message
    );

    // The page's TCF API is asked before the choice and after it.
    let tcf = page("tcf");
    let seen: Vec<_> = tcf
        .facts
        .tcf
        .iter()
        .map(|t| (t.seen, t.source.as_str(), t.cmp_id))
        .collect();
    assert_eq!(
        seen,
        [
            (TcfMoment::BeforeChoice, "__tcfapi getTCData", 7),
            (TcfMoment::AfterReject, "__tcfapi getTCData", 7)
        ]
    );
    let rules = rules_of(tcf);
    assert!(
        rules.contains(&"tcf-consent-before-choice") && rules.contains(&"tcf-consent-after-reject"),
        "{rules:?}"
    );
    assert!(page("honours").facts.tcf.is_empty());

    let early = page("tracks-early");
    let rules = rules_of(early);
    assert!(
        rules.contains(&"cookie-before-consent") && rules.contains(&"tracker-before-consent"),
        "{rules:?}"
    );
    assert!(
        early
            .facts
            .cookies
            .iter()
            .any(|c| c.name == "_ga" && c.before_consent)
    );
    assert!(
        early
            .facts
            .trackers
            .iter()
            .any(|t| t.host == TRACKER_HOST && !t.gated)
    );

    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(
        html.contains("data:image/png;base64,"),
        "the HTML report embeds the screenshots"
    );
    assert_eq!(
        chromium_processes_using("cookie-audit-chromium"),
        0,
        "a Chromium process outlived the run"
    );
}

#[tokio::test]
async fn a_missing_browser_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let mut s = settings(vec!["http://127.0.0.1:9/".into()], out.path());
    s.browser = Some("/nonexistent/chromium".into());
    let err = pipeline::run(s).await.err().expect("no browser");
    assert!(err.to_string().contains("/nonexistent/chromium"), "{err}");
}

type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, bool, bool)>>>;

/// A page on 127.0.0.1 that loads a script of its own and one of a third party; every request
/// is recorded with whether it carried the staging cookie and header.
async fn credentials_server(seen: Seen) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let app = Router::new().fallback(move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
        let seen = seen.clone();
        async move {
            let cookie = headers
                .get(header::COOKIE)
                .is_some_and(|c| c.to_str().unwrap_or_default().contains("staging=s3cret"));
            let staging = headers.contains_key("x-staging-token");
            seen.lock().unwrap().push((uri.path().to_owned(), cookie, staging));
            match uri.path() {
                "/secret-page" => page(
                    "Staging shop",
                    &format!(
                        "<script src=\"/own.js\"></script><script src=\"http://{TRACKER_HOST}:{port}/collect.js\"></script>"
                    ),
                    "",
                ),
                _ => (
                    [(header::CONTENT_TYPE, "application/javascript")],
                    "void 0;",
                )
                    .into_response(),
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn staging_credentials_reach_the_target_host_and_no_third_party() {
    let _one = ONE_BROWSER.lock().await;
    let seen: Seen = Default::default();
    let addr = credentials_server(seen.clone()).await;
    let out = tempfile::tempdir().unwrap();
    let mut s = settings(vec![format!("http://{addr}/secret-page")], out.path());
    s.fetch.cookie = Some("staging=s3cret".into());
    s.fetch.headers = vec![("X-Staging-Token".into(), "t0k3n".into())];
    s.banner_wait = Duration::from_secs(1);
    s.choice = None;
    let outcome = pipeline::run(s).await.expect("run");
    assert!(
        outcome.report.pages[0].error.is_none(),
        "{:?}",
        outcome.report.pages[0].error
    );
    let seen = seen.lock().unwrap().clone();
    let of = |path: &str| seen.iter().find(|(p, ..)| p == path).cloned();
    assert_eq!(
        of("/secret-page"),
        Some(("/secret-page".into(), true, true)),
        "{seen:?}"
    );
    assert_eq!(
        of("/own.js"),
        Some(("/own.js".into(), true, true)),
        "{seen:?}"
    );
    assert_eq!(
        of("/collect.js"),
        Some(("/collect.js".into(), false, false)),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_cookie_jar_the_browser_cannot_give_is_an_error_not_an_empty_jar() {
    use cookie_audit::fetch::render::{BrowserOptions, Renderer};
    let _one = ONE_BROWSER.lock().await;
    let addr = start().await;
    let out = tempfile::tempdir().unwrap();
    let fetch = settings(Vec::new(), out.path()).fetch;
    let options = BrowserOptions {
        tabs: 1,
        ..Default::default()
    };
    let renderer = Renderer::start(fetch, options).await.expect("browser");
    let visit = renderer
        .open(&format!("http://{addr}/tracks-early"))
        .await
        .unwrap();
    visit.goto().await.unwrap();
    assert!(
        visit
            .cookies()
            .await
            .unwrap()
            .iter()
            .any(|c| c.name == "_ga"),
        "the live jar is read"
    );
    renderer.shutdown().await;
    assert!(
        visit.cookies().await.is_err(),
        "a browser that is gone gives no jar, rather than an empty one"
    );
    visit.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_in_render_mode_follows_the_rendered_links() {
    let _one = ONE_BROWSER.lock().await;
    let addr = start().await;
    let out = tempfile::tempdir().unwrap();
    let mut s = settings(vec![format!("http://{addr}/honours")], out.path());
    s.choice = None;
    s.crawl = Some(pipeline::CrawlOptions {
        depth: 1,
        max_pages: 10,
        ignore_robots: false,
    });
    let outcome = pipeline::run(s).await.expect("render crawl");
    let shop = outcome
        .report
        .pages
        .iter()
        .find(|p| p.input == format!("http://{addr}/shop"))
        .expect("the linked shop page was crawled");
    assert_eq!(shop.mode, Mode::Render);
    assert!(
        shop.facts.banner.as_ref().is_some_and(|b| b.present),
        "its banner, drawn in a shadow root, was read"
    );
    assert!(
        outcome.report.pages.len() >= 3,
        "the start page, /shop and the policy link"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_mode_renders_only_the_pages_whose_banner_needs_a_browser() {
    let _one = ONE_BROWSER.lock().await;
    let addr = start().await;
    let out = tempfile::tempdir().unwrap();
    let url = |p: &str| format!("http://{addr}/{p}");
    let mut s = settings(vec![url("inline-banner"), url("tcf")], out.path());
    s.mode = Mode::Static;
    s.render_when_needed = true;
    let outcome = pipeline::run(s).await.expect("auto run");
    let page = |p: &str| {
        outcome
            .report
            .pages
            .iter()
            .find(|r| r.input == url(p))
            .unwrap()
    };
    let inline = page("inline-banner");
    assert_eq!(inline.mode, Mode::Static, "its banner is in the HTML");
    assert!(inline.facts.banner.as_ref().is_some_and(|b| b.present));
    // A TCF stub and a banner drawn by script: static facts cannot settle it, the browser does.
    let scripted = page("tcf");
    assert_eq!(scripted.mode, Mode::Render);
    assert!(
        scripted
            .facts
            .banner
            .as_ref()
            .is_some_and(|b| b.present && !b.buttons.is_empty())
    );
    assert_ne!(scripted.coverage, Coverage::NeedsRender);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_mode_is_auto_when_a_browser_is_found() {
    let _one = ONE_BROWSER.lock().await;
    let addr = start().await;
    let out = tempfile::tempdir().unwrap();
    let mode_of = |extra: &[&str]| {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_cookie-audit"))
            .current_dir(out.path())
            .env("COOKIE_AUDIT_LISTS", out.path().join("no-lists"))
            .args(["audit", &format!("http://{addr}/tcf"), "--format", "json"])
            .args([
                "--fail-on",
                "never",
                "--interact",
                "none",
                "--banner-wait",
                "2",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let report = std::fs::read_to_string(out.path().join("reports/report.json")).unwrap();
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        let mode = report["pages"][0]["mode"].as_str().unwrap().to_owned();
        (mode, String::from_utf8_lossy(&run.stderr).into_owned())
    };
    assert_eq!(
        mode_of(&[]).0,
        "render",
        "a script-drawn banner is rendered by default"
    );
    let (mode, said) = mode_of(&["--chrome", "/no/such/chromium"]);
    assert_eq!(mode, "static", "no browser, no render");
    assert!(
        said.contains("/no/such/chromium"),
        "a wrong --chrome is said: {said}"
    );
}
