//! Files written so that no reader (a CI step, a resumed run) ever sees one half-written: into a
//! temporary file beside it, then renamed over it.

use std::path::{Path, PathBuf};

/// The temporary file beside `path`: `report.json` → `report.json.tmp`.
pub fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` through its temporary file.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
