//! `cargo bench`: the figures of issue "Performance and scale", each a ratio or a rate measured in
//! this run, printed with its target and PASS/FAIL.
//!
//! 1. Parse vs full audit on a generated corpus of realistic pages (20 KB to 2 MB), and pages per
//!    second for 200 KB pages through the real pipeline over files on 2 worker threads.
//! 2. The network path: 2,000 URLs on 127.0.0.1 with 50 ms latency each, concurrency 64.
//! 3. Peak memory (VmHWM) of the release binary over 10,000 local URLs.
//!
//! `cargo bench -- parse` (or `network`, `memory`) runs one part only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cookie_audit::page::Page;
use cookie_audit::pipeline::{self, RunOptions};

mod corpus;
mod memory;
mod network;
mod throughput;

use corpus::*;
use memory::*;
use network::*;
use throughput::*;

const FULL_OVER_PARSE_TARGET: f64 = 1.5;
const PAGES_PER_SEC_TARGET: f64 = 150.0;
const NETWORK_RATIO_TARGET: f64 = 1.3;
const PEAK_MB_TARGET: f64 = 150.0;

const KB: usize = 1024;
/// Sizes of the generated corpus, cycled over the fixture pages.
const SIZES: [usize; 6] = [20 * KB, 50 * KB, 100 * KB, 200 * KB, 500 * KB, 2048 * KB];

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| filters.is_empty() || filters.iter().any(|f| part.contains(f));
    let fixtures = load_fixtures();
    println!(
        "cookie-audit bench: {} fixture pages, {} cores",
        fixtures.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut verdicts = Vec::new();
    if wanted("parse") {
        verdicts.extend(parse_vs_full(&fixtures));
        verdicts.push(pages_per_second(&fixtures));
    }
    if wanted("network") {
        verdicts.push(network(&fixtures));
    }
    if wanted("memory") {
        verdicts.push(memory(&fixtures));
    }
    println!("\nsummary");
    for v in &verdicts {
        println!("  {v}");
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}
