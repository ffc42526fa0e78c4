//! `lists update` against a real server on 127.0.0.1, and the lists at work in an audit: the
//! EasyList Cookie List names banners, a tracker list names requests the catalogue does not know.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use cookie_audit::facts::{Category, Coverage};
use cookie_audit::knowledge::cookie_db::CookieDatabase;
use cookie_audit::knowledge::lists::FilterList;
use cookie_audit::lists::{Updated, cached, update};
use cookie_audit::page::{Page, SetCookie};
use cookie_audit::pipeline;

const COOKIE_DATABASE: &str = "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n\
    1,Shopware,Security,xsrf_shop,,\"Protects forms, as usual\",session,Shopware,,0\n";

const PRIVACY_LIST: &str = "[Adblock Plus 2.0]\n! Title: EasyPrivacy (test copy)\n! Version: 202612070900\n\
||stats.example-metrics.net^$third-party\n||collect.example-insights.io^\n";

/// Serves a list with an ETag (and 304 to a matching If-None-Match), and a page that is no list.
async fn list_server(downloads: Arc<AtomicUsize>) -> String {
    let app = Router::new()
        .route(
            "/easyprivacy.txt",
            get(move |headers: HeaderMap| {
                let downloads = downloads.clone();
                async move {
                    if headers
                        .get(header::IF_NONE_MATCH)
                        .is_some_and(|v| v == "\"v1\"")
                    {
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    downloads.fetch_add(1, Ordering::SeqCst);
                    ([(header::ETAG, "\"v1\"")], PRIVACY_LIST).into_response()
                }
            }),
        )
        .route(
            "/open-cookie-database.csv",
            get(|| async { COOKIE_DATABASE }),
        )
        .route(
            "/not-a-list.txt",
            get(|| async { "<html><body>Maintenance</body></html>" }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn update_downloads_once_then_asks_whether_the_list_changed() {
    let downloads = Arc::new(AtomicUsize::new(0));
    let base = list_server(downloads.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let sources = vec![("easyprivacy".to_owned(), format!("{base}/easyprivacy.txt"))];

    let first = update(dir.path(), &sources).await;
    assert!(
        matches!(first[0].1, Updated::Downloaded { .. }),
        "{first:?}"
    );
    let second = update(dir.path(), &sources).await;
    assert_eq!(second[0].1, Updated::Unchanged);
    assert_eq!(
        downloads.load(Ordering::SeqCst),
        1,
        "the second run must be conditional"
    );

    let lists = cached(dir.path()).unwrap().filters;
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].info.name, "EasyPrivacy (test copy)");
    assert_eq!(lists[0].info.version.as_deref(), Some("202612070900"));
}

#[tokio::test]
async fn a_cookie_database_is_cached_as_one_and_read_back() {
    let base = list_server(Arc::new(AtomicUsize::new(0))).await;
    let dir = tempfile::tempdir().unwrap();
    let sources = vec![("ocd".to_owned(), format!("{base}/open-cookie-database.csv"))];
    let outcome = update(dir.path(), &sources).await;
    assert!(
        matches!(outcome[0].1, Updated::Downloaded { .. }),
        "{outcome:?}"
    );
    let cached = cached(dir.path()).unwrap();
    assert!(cached.filters.is_empty());
    let db = &cached.cookies[0];
    assert_eq!(db.info.name, "ocd");
    assert_eq!(db.classify("xsrf_shop").unwrap().vendor, "Shopware");
}

#[tokio::test]
async fn a_bad_download_or_no_network_keeps_the_cached_copy_and_says_why() {
    let base = list_server(Arc::new(AtomicUsize::new(0))).await;
    let dir = tempfile::tempdir().unwrap();
    let good = vec![("easyprivacy".to_owned(), format!("{base}/easyprivacy.txt"))];
    update(dir.path(), &good).await;

    let garbage = vec![("easyprivacy".to_owned(), format!("{base}/not-a-list.txt"))];
    let outcome = update(dir.path(), &garbage).await;
    assert!(
        matches!(&outcome[0].1, Updated::Failed(why) if why.contains("no filter rule")),
        "{outcome:?}"
    );
    // A closed port on this machine stands for being offline.
    let offline = vec![(
        "easyprivacy".to_owned(),
        "http://127.0.0.1:9/easyprivacy.txt".to_owned(),
    )];
    let outcome = update(dir.path(), &offline).await;
    assert!(
        matches!(&outcome[0].1, Updated::Failed(why) if why.contains("cannot reach") && why.contains("stays")),
        "{outcome:?}"
    );
    let kept = std::fs::read_to_string(dir.path().join("easyprivacy.txt")).unwrap();
    assert_eq!(kept, PRIVACY_LIST);
}

fn saved_page(html: &str) -> Page {
    Page::from_html("saved.html", "file:///tmp/saved.html", html.into())
}

#[test]
fn a_tracker_list_names_hosts_the_catalogue_does_not_know_with_its_rule() {
    let mut loaded = pipeline::load(None, "eu").unwrap();
    let page = saved_page(
        r#"<!DOCTYPE html><html lang="nl"><head><link rel="canonical" href="https://www.voorbeeld.nl/nieuws/1">
        <script async src="//stats.example-metrics.net/m.js?site=42"></script></head>
        <body><main><h1>Nieuws</h1><p>Het laatste nieuws uit de regio, elke dag bijgewerkt.</p></main></body></html>"#,
    );
    let (before, _) = pipeline::analyse(&page, &loaded.knowledge, &loaded.engine);
    assert!(
        before.facts.trackers.is_empty(),
        "{:?}",
        before.facts.trackers
    );

    loaded
        .knowledge
        .lists
        .push(FilterList::parse(PRIVACY_LIST, "easyprivacy.txt"));
    let (after, _) = pipeline::analyse(&page, &loaded.knowledge, &loaded.engine);
    let tracker = &after.facts.trackers[0];
    assert_eq!(tracker.host, "stats.example-metrics.net");
    assert_eq!(
        tracker.source.as_deref(),
        Some("list:EasyPrivacy (test copy)@202612070900")
    );
    assert_eq!(
        tracker.rule.as_deref(),
        Some("||stats.example-metrics.net^$third-party")
    );
    assert!(after.findings.iter().any(|f| f.rule == "banner-missing"));
}

#[test]
fn the_easylist_cookie_list_finds_a_banner_the_embedded_knowledge_does_not() {
    // A home-made bar with no consent vocabulary in its attributes, named by a site rule.
    let html = r#"<!DOCTYPE html><html lang="sv"><head><link rel="canonical" href="https://www.exempel-butik.se/"></head>
        <body><main><h1>Välkommen</h1><p>Våra produkter.</p></main>
        <div id="bottom-strip"><p>Vi använder kakor för statistik och marknadsföring.</p>
        <a href="/integritet">Läs mer</a> <a href="javascript:void(0)" class="strip-close">Stäng</a></div></body></html>"#;
    let mut loaded = pipeline::load(None, "eu").unwrap();
    let page = saved_page(html);
    let (before, _) = pipeline::analyse(&page, &loaded.knowledge, &loaded.engine);
    assert!(before.facts.banner.as_ref().is_none_or(|b| !b.present));

    loaded.knowledge.lists.push(FilterList::parse(
        "! Title: Easylist Cookie List (test copy)\nexempel-butik.se###bottom-strip\n",
        "c.txt",
    ));
    let (after, _) = pipeline::analyse(&page, &loaded.knowledge, &loaded.engine);
    assert_eq!(after.coverage, Coverage::BannerFound);
    let banner = after.facts.banner.unwrap();
    assert_eq!(banner.selector.as_deref(), Some("#bottom-strip"));
}

#[test]
fn the_shared_easyprivacy_domains_list_loads_as_request_rules() {
    let path = common::fixtures().join("../../../shared/lists/easyprivacy-domains.txt");
    let path = Path::new(&path);
    let list = FilterList::read(path).expect("the domain list reads");
    let network = list.network.expect("domains become request rules");
    assert!(
        network
            .rule_for("https://2cnt.net/j0=x", "https://www.example.com/", "image")
            .is_some()
    );
}

#[test]
fn the_open_cookie_database_names_cookies_the_catalogue_does_not_know() {
    let path = common::fixtures().join("../../../shared/lists/open-cookie-database.csv");
    let db = CookieDatabase::read(Path::new(&path)).expect("the Open Cookie Database reads");
    assert!(db.len() > 2000, "{} names", db.len());
    let mut loaded = pipeline::load(None, "eu").unwrap();
    // `_hjSessionUser_<id>` is Hotjar's; `ACLK_DATA` Google AdSense's; an unknown name stays unknown.
    let page = Page {
        set_cookies: [
            "ACLK_DATA=1; Domain=.example.com; Max-Age=31536000",
            "_hjSessionUser_123=x; Max-Age=100",
            "zz_own_flag=1",
        ]
        .iter()
        .map(|h| SetCookie {
            header: (*h).into(),
            url: "https://www.example.com/".into(),
        })
        .collect(),
        ..Page::from_html(
            "p",
            "https://www.example.com/",
            "<html><body><p>Hello</p></body></html>".into(),
        )
    };
    let (before, _) = pipeline::analyse(&page, &loaded.knowledge, &loaded.engine);
    let by_name = |r: &cookie_audit::report::PageReport, n: &str| {
        r.facts
            .cookies
            .iter()
            .find(|c| c.name == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        by_name(&before, "_hjSessionUser_123")
            .classified_by
            .as_deref(),
        Some("catalogue")
    );
    let unknown_before = by_name(&before, "ACLK_DATA");
    assert_eq!(
        unknown_before.category,
        Category::Unknown,
        "the test needs a name the catalogue lacks"
    );

    loaded.knowledge.cookies.add_database(db);
    let (after, _) = pipeline::analyse(&page, &loaded.knowledge, &loaded.engine);
    let muid = by_name(&after, "ACLK_DATA");
    assert_eq!(muid.category, Category::Advertising);
    assert_eq!(
        muid.classified_by.as_deref(),
        Some("list:open-cookie-database")
    );
    assert!(muid.needs_consent);
    // The catalogue still wins where both know a name.
    assert_eq!(
        by_name(&after, "_hjSessionUser_123")
            .classified_by
            .as_deref(),
        Some("catalogue")
    );
    assert_eq!(by_name(&after, "zz_own_flag").category, Category::Unknown);
    assert!(
        after
            .findings
            .iter()
            .any(|f| f.rule == "cookie-before-consent" && f.message.contains("ACLK_DATA"))
    );
}
