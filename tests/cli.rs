//! The binary as a CI pipeline sees it: exit codes, the settings file, baselines, merge, signals.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn cli(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cookie-audit"));
    // Lists a developer fetched with `lists update` must not change what these tests see.
    c.current_dir(dir)
        .env("COOKIE_AUDIT_LISTS", dir.join("no-lists"));
    c
}

fn fixture_path(rel: &str) -> String {
    common::fixtures()
        .join("pages")
        .join(rel)
        .display()
        .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let noncompliant = fixture_path("generic/bar-en-implied-got-it.html");
    let failing = cli(dir.path())
        .args(["audit", &noncompliant, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    assert!(stderr(&failing).contains("exit 1"));
    let never = cli(dir.path())
        .args([
            "audit",
            &noncompliant,
            "--fail-on",
            "never",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(never.status.code(), Some(0));
    let clean = cli(dir.path())
        .args([
            "audit",
            &fixture_path("generic/neg-recipe-chocolate-chip-cookies-en.html"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
}

#[test]
fn nothing_audited_is_exit_3_and_usage_errors_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let unreachable = cli(dir.path())
        .args([
            "audit",
            &format!("http://{closed}/"),
            "--retries",
            "0",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        unreachable.status.code(),
        Some(3),
        "{}",
        stderr(&unreachable)
    );
    let profile = cli(dir.path())
        .args(["audit", "example.com", "--profile", "mars"])
        .output()
        .unwrap();
    assert_eq!(profile.status.code(), Some(2));
    assert!(stderr(&profile).contains("unknown profile \"mars\""));
    let none = cli(dir.path()).args(["audit"]).output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("no targets"));
    let shard = cli(dir.path())
        .args(["audit", "example.com", "--shard", "3/2"])
        .output()
        .unwrap();
    assert_eq!(shard.status.code(), Some(2));
}

#[test]
fn the_settings_file_mirrors_the_flags_and_rejects_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let page = fixture_path("generic/seed-fr-news.html");
    std::fs::write(dir.path().join("cookie-audit.toml"), format!("targets = [{page:?}]\nprofile = \"fr-cnil\"\nformat = [\"json\", \"markdown\"]\noutput = \"out\"\n")).unwrap();
    let run = cli(dir.path())
        .args(["audit", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["profile"], "fr-cnil");
    assert!(dir.path().join("out/report.md").is_file());
    // Flags win over the file.
    let run = cli(dir.path())
        .args(["audit", "--fail-on", "never", "--profile", "de"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["profile"], "de");
    std::fs::write(
        dir.path().join("cookie-audit.toml"),
        "profile = \"eu\"\n\nconcurency = 3\n",
    )
    .unwrap();
    let bad = cli(dir.path())
        .args(["audit", "example.com"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("cookie-audit.toml:3") && stderr(&bad).contains("concurency"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_baseline_lets_known_findings_pass_and_new_ones_fail() {
    let dir = tempfile::tempdir().unwrap();
    let known = fixture_path("generic/bar-en-implied-got-it.html");
    let record = cli(dir.path())
        .args([
            "audit",
            &known,
            "--write-baseline",
            "baseline.json",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(record.status.code(), Some(0));
    let same = cli(dir.path())
        .args([
            "audit",
            &known,
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        same.status.code(),
        Some(0),
        "known findings do not fail: {}",
        stderr(&same)
    );
    let other = fixture_path("generic/box-sk-accept-only-close.html");
    let more = cli(dir.path())
        .args([
            "audit",
            &known,
            &other,
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        more.status.code(),
        Some(1),
        "a new page brings new findings: {}",
        stderr(&more)
    );
}

#[test]
fn merge_and_report_work_on_saved_results() {
    let dir = tempfile::tempdir().unwrap();
    for (i, page) in [
        "generic/seed-fr-news.html",
        "generic/modal-es-compliant.html",
    ]
    .iter()
    .enumerate()
    {
        let out = format!("shard{i}");
        let run = cli(dir.path())
            .args([
                "audit",
                &fixture_path(page),
                "--format",
                "json",
                "--fail-on",
                "never",
                "-o",
                &out,
            ])
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0));
    }
    let merge = cli(dir.path())
        .args([
            "merge",
            "shard0/report.json",
            "shard1/report.json",
            "-o",
            "all.json",
        ])
        .output()
        .unwrap();
    assert_eq!(merge.status.code(), Some(0), "{}", stderr(&merge));
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("all.json")).unwrap())
            .unwrap();
    assert_eq!(all["summary"]["targets"], 2);
    let render = cli(dir.path())
        .args([
            "report",
            "all.json",
            "--format",
            "table,html",
            "-o",
            "again",
        ])
        .output()
        .unwrap();
    assert_eq!(render.status.code(), Some(0), "{}", stderr(&render));
    assert!(String::from_utf8_lossy(&render.stdout).contains("modal-es-compliant"));
    assert!(dir.path().join("again/report.html").is_file());
    let garbage = cli(dir.path())
        .args(["report", "again/report.html"])
        .output()
        .unwrap();
    assert_eq!(garbage.status.code(), Some(2));
}

#[test]
fn sigint_keeps_every_finished_page() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(common::start());
    let dir = tempfile::tempdir().unwrap();
    // One fast page, then pages that take 5 s each: the run is interrupted while they are in flight.
    let mut args = vec!["audit".to_owned(), server.url("/article/fast")];
    args.extend((0..4).map(|i| format!("{}?n={i}", server.url("/slow"))));
    let mut child = cli(dir.path())
        .args(&args)
        .args([
            "--concurrency",
            "1",
            "--timeout",
            "30",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .spawn()
        .unwrap();
    let journal = dir.path().join("reports/pages.jsonl");
    let start = Instant::now();
    // The header line, then the fast page.
    while std::fs::read_to_string(&journal).map_or(true, |j| j.lines().count() < 2) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the fast page never finished"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "the grace period is bounded"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/report.json")).unwrap(),
    )
    .unwrap();
    let inputs: Vec<&str> = report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["input"].as_str().unwrap())
        .collect();
    assert!(
        inputs.contains(&server.url("/article/fast").as_str()),
        "{inputs:?}"
    );
}

#[test]
fn an_empty_shard_exits_zero_and_settings_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let page = fixture_path("generic/bar-en-implied-got-it.html");
    // Which shard holds the page depends on its path: one of two shards is empty.
    let codes: Vec<Option<i32>> = ["1/2", "2/2"]
        .iter()
        .map(|shard| {
            cli(dir.path())
                .args(["audit", &page, "--shard", shard])
                .env("COOKIE_AUDIT_FORMAT", "json")
                .output()
                .unwrap()
                .status
                .code()
        })
        .collect();
    codes
        .iter()
        .for_each(|c| assert!(matches!(c, Some(0 | 1)), "{codes:?}"));
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "{codes:?}"
    );
    let bad = cli(dir.path())
        .args(["audit", &page])
        .env("COOKIE_AUDIT_RETRIES", "99")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--retries 99"), "{}", stderr(&bad));
}

/// A local site whose one page, while it is being fetched, turns the JSON report's temporary
/// file into a folder: the disk changing under a run that passed the checks made at its start.
fn site_that_breaks_the_report_path(out: &Path) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let trap = out.join("report.json.tmp");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            use std::io::{Read, Write};
            let mut stream = stream;
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = std::fs::create_dir_all(&trap);
            let body = "<!DOCTYPE html><html lang=\"en\"><head><title>Roastery</title></head><body><main><h1>Fresh beans</h1><p>Weekly subscriptions across Europe.</p></main></body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/")
}

#[test]
fn output_paths_are_checked_before_fetching_and_a_late_write_failure_is_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // An unwritable baseline path fails at once, before any target is fetched (the closed port
    // would take the retries' time and end as exit 3 otherwise).
    let early = cli(dir.path())
        .args([
            "audit",
            &format!("http://{closed}/"),
            "--write-baseline",
            "no-such-folder/baseline.json",
        ])
        .output()
        .unwrap();
    assert_eq!(early.status.code(), Some(2), "{}", stderr(&early));
    assert!(
        stderr(&early).contains("baseline.json"),
        "{}",
        stderr(&early)
    );
    assert!(!dir.path().join("reports/pages.jsonl").exists());

    let out = dir.path().join("late");
    std::fs::create_dir_all(&out).unwrap();
    let target = site_that_breaks_the_report_path(&out);
    let late = cli(dir.path())
        .args(["audit", &target, "--format", "table,json", "-o", "late"])
        .output()
        .unwrap();
    assert_eq!(late.status.code(), Some(4), "{}", stderr(&late));
    assert!(
        stderr(&late).contains("cannot write reports"),
        "{}",
        stderr(&late)
    );
    assert!(
        String::from_utf8_lossy(&late.stdout).contains("Roastery")
            || String::from_utf8_lossy(&late.stdout).contains("127.0.0.1"),
        "the table is still shown"
    );
    let journal = std::fs::read_to_string(out.join("pages.jsonl")).unwrap();
    assert!(
        journal.contains(&target),
        "the audited page is kept: {journal}"
    );
}

#[test]
fn completions_and_man_pages_come_from_the_real_flags() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = cli(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains("fail-on") && script.contains("write-baseline"),
            "{shell}: the audit flags are completed"
        );
    }
    let bash = cli(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let path = dir.path().join("cookie-audit.bash");
    std::fs::write(&path, &bash.stdout).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(syntax.status.success(), "{}", stderr(&syntax));
    let unknown = cli(dir.path())
        .args(["completions", "cmd"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));

    let page = cli(dir.path()).arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(
        page.starts_with(".ie") && page.contains(".SH NAME"),
        "{page}"
    );
    let pages = cli(dir.path())
        .args(["man", "--dir", "man"])
        .output()
        .unwrap();
    assert_eq!(pages.status.code(), Some(0), "{}", stderr(&pages));
    let audit = std::fs::read_to_string(dir.path().join("man/cookie-audit-audit.1")).unwrap();
    assert!(
        audit.contains("fail\\-on") && audit.contains("baseline"),
        "{audit}"
    );
    assert!(dir.path().join("man/cookie-audit-rules-show.1").is_file());
}
