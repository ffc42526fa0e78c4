//! 3. Peak memory of the release binary.

use super::*;

// 3. Peak memory of the release binary.

pub(crate) struct Peak {
    hwm_kb: u64,
    seconds: f64,
    samples: Vec<(f64, u64)>,
    report_bytes: u64,
    journal_bytes: u64,
}

pub(crate) fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

pub(crate) fn run_binary(base: &str, count: usize, dir: &Path) -> Peak {
    let list = dir.join(format!("list-{count}.txt"));
    let out = dir.join(format!("out-{count}"));
    let text: String = (0..count).map(|i| format!("{base}/fast/{i}\n")).collect();
    std::fs::write(&list, text).expect("write list");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_cookie-audit"));
    let t = Instant::now();
    let mut child = std::process::Command::new(&bin)
        .args(["audit", "-i"])
        .arg(&list)
        .args([
            "--format",
            "json",
            "-o",
            out.to_str().expect("utf-8 path"),
            "--concurrency",
            "16",
            "--per-host",
            "16",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the release binary");
    let pid = child.id();
    let mut hwm = 0;
    let mut samples = Vec::new();
    let status = loop {
        if let Some(kb) = status_kb(pid, "VmHWM:") {
            hwm = hwm.max(kb);
        }
        if let Some(kb) = status_kb(pid, "VmRSS:") {
            samples.push((t.elapsed().as_secs_f64(), kb));
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let seconds = t.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        panic!("cookie-audit exited with {status}: {err}");
    }
    let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    Peak {
        hwm_kb: hwm,
        seconds,
        samples,
        report_bytes: size(out.join("report.json")),
        journal_bytes: size(out.join("pages.jsonl")),
    }
}

pub(crate) fn memory(fixtures: &[Fixture]) -> String {
    println!("\n== 3. peak memory, release binary ==");
    // Pages of a realistic weight (fixtures padded to 30–120 KB), served at once.
    let pages: Vec<String> = fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| padded(f, [30, 60, 120][i % 3] * KB, 5000 + i as u64))
        .collect();
    let base = start_server(pages, Duration::ZERO);
    let dir = tempfile::tempdir().expect("temp dir");
    let small = run_binary(&base, 2500, dir.path());
    let big = run_binary(&base, 10_000, dir.path());
    for (n, p) in [(2500, &small), (10_000, &big)] {
        println!(
            "{n:>6} targets: peak RSS {:.1} MB, {:.1} s ({:.0} pages/s), report.json {:.1} MB, pages.jsonl {:.1} MB",
            p.hwm_kb as f64 / 1024.0,
            p.seconds,
            n as f64 / p.seconds,
            p.report_bytes as f64 / 1e6,
            p.journal_bytes as f64 / 1e6
        );
    }
    let per_page = (big.hwm_kb as f64 - small.hwm_kb as f64) * 1024.0 / 7500.0;
    println!("peak grows by {:.1} KB per extra target", per_page / 1024.0);
    let quarter = |p: &Peak, q: f64| {
        let at = p.seconds * q;
        p.samples
            .iter()
            .find(|(t, _)| *t >= at)
            .or(p.samples.last())
            .map_or(0, |s| s.1)
    };
    println!(
        "RSS over the 10,000-target run: 25% {:.0} MB, 50% {:.0} MB, 75% {:.0} MB, 95% {:.0} MB",
        quarter(&big, 0.25) as f64 / 1024.0,
        quarter(&big, 0.5) as f64 / 1024.0,
        quarter(&big, 0.75) as f64 / 1024.0,
        quarter(&big, 0.95) as f64 / 1024.0
    );
    let mb = big.hwm_kb as f64 / 1024.0;
    let line = format!(
        "peak RSS (10,000 targets) = {mb:.0} MB (target ≤ {PEAK_MB_TARGET:.0} MB) {}",
        verdict(mb <= PEAK_MB_TARGET)
    );
    println!("{line}");
    line
}
