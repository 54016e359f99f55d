//! `strix version` / `strix doctor`.

use crate::ui::Printer;
use crate::ui::errors::Failure;

pub fn run(p: &Printer) -> Result<i32, Failure> {
    p.out(format!("strix version: {}", env!("CARGO_PKG_VERSION")));
    p.out("---------------------------------");
    p.out(format!(
        "Platform: {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    ));
    p.out("Compatible with: DVC 3.x repositories, caches and remotes");
    p.out(format!(
        "Threads: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    ));
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(repo) = strix_repo::Repo::discover(&cwd)
    {
        let s = repo.settings();
        p.out(format!(
            "Cache types: {}",
            s.link_types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        p.out(format!("Cache directory: {}", s.cache_dir.display()));
        p.out(format!(
            "Repo: dvc{}",
            if repo.git().is_some() { ", git" } else { "" }
        ));
    }
    Ok(0)
}
