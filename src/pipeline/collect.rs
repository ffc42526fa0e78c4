//! The targets of a run: command line, stdin, list files and sitemaps.

use super::{RunOptions, SetupError};
use crate::fetch::http::HttpFetcher;
use crate::targets::{TargetList, parse_sitemap, parse_url};

/// Sitemap indexes nested deeper than this are a loop or a trap.
const SITEMAP_DEPTH: u32 = 3;

pub async fn collect_targets(
    options: &RunOptions,
    http: &HttpFetcher,
) -> Result<TargetList, SetupError> {
    let mut list = TargetList::default();
    for raw in &options.targets {
        if raw == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| SetupError::read("stdin", e))?;
            list.add_list(&text, "stdin");
        } else {
            list.add(raw, "command line");
        }
    }
    for path in &options.inputs {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SetupError::read(&path.display().to_string(), e))?;
        list.add_list(&text, &path.display().to_string());
    }
    if let Some(sitemap) = &options.sitemap {
        add_sitemap(
            &mut list,
            sitemap,
            options.limit.unwrap_or(usize::MAX),
            http,
        )
        .await?;
    }
    Ok(list)
}

async fn add_sitemap(
    list: &mut TargetList,
    sitemap: &str,
    limit: usize,
    http: &HttpFetcher,
) -> Result<(), SetupError> {
    let root = parse_url(sitemap).map_err(|e| SetupError::Sitemap {
        url: sitemap.to_owned(),
        reason: e.to_string(),
    })?;
    let own_host = root.host_str().map(str::to_owned);
    let mut visited = std::collections::HashSet::new();
    let mut queue = vec![(root.clone(), 0)];
    let mut added = 0;
    while let Some((url, depth)) = queue.pop() {
        // An index that lists itself (or a cycle of them) is read once; past the limit, no more.
        if added >= limit || !visited.insert(url.to_string()) {
            continue;
        }
        // Child sitemaps come from remote content: the user's credentials go to their host only.
        let secrets = url.host_str().map(str::to_owned) == own_host;
        let xml = match http.fetch_text(&url, secrets).await {
            Ok(xml) => xml,
            // The sitemap the user named must be readable; a broken child is one bad target.
            Err(e) if url == root => {
                return Err(SetupError::Sitemap {
                    url: url.to_string(),
                    reason: e.message,
                });
            }
            Err(e) => {
                list.add_bad(url.as_str(), &format!("sitemap {url}: {}", e.message));
                continue;
            }
        };
        let (is_index, locs) = parse_sitemap(&xml);
        if is_index {
            // Children are fetched in listed order.
            queue.extend(
                locs.iter()
                    .rev()
                    .filter_map(|l| parse_url(l).ok())
                    .filter(|_| depth < SITEMAP_DEPTH)
                    .map(|u| (u, depth + 1)),
            );
            continue;
        }
        for loc in locs {
            if added >= limit {
                break;
            }
            list.add(&loc, &format!("sitemap {url}"));
            added += 1;
        }
    }
    Ok(())
}
