//! Shell completions and man pages, generated from the clap definitions so they cannot drift
//! from `--help`.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use super::Cli;

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cookie-audit", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page of `cookie-audit` itself, in roff.
pub fn man_page() -> anyhow::Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// One page per command (`cookie-audit.1`, `cookie-audit-audit.1`, `cookie-audit-rules-show.1`…)
/// written into `dir`; the list of files written.
pub fn man_pages(dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let mut command = Cli::command();
    command.build();
    let mut written = String::new();
    write_pages(&command, "cookie-audit", dir, &mut written)?;
    Ok(written)
}

fn write_pages(
    command: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut String,
) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .title(name.to_owned())
        .render(&mut page)?;
    crate::atomic::write(&path, &page).with_context(|| path.display().to_string())?;
    written.push_str(&format!("wrote {}\n", path.display()));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}
