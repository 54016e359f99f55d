//! `strix diff`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use serde_json::{Value, json};
use strix_data::Oid;
use strix_repo::diff::Changes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Old revision (default HEAD).
    a_rev: Option<String>,
    /// New revision (default: the workspace).
    b_rev: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Show hashes of the changed entries.
    #[arg(long)]
    show_hash: bool,
    /// Only show changes under these paths.
    #[arg(long, num_args = 1..)]
    targets: Vec<String>,
    /// Hide missing cache file status.
    #[arg(long)]
    hide_missing: bool,
}

fn keep(targets: &[String], path: &str) -> bool {
    targets.is_empty()
        || targets.iter().any(|t| {
            let t = t.trim_end_matches('/');
            path == t || path.starts_with(&format!("{t}/"))
        })
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, _cwd) = super::open_repo()?;
    let bars = Bars::new(p.quiet || a.json);
    let a_rev = a.a_rev.clone().unwrap_or_else(|| "HEAD".into());
    let result = strix_repo::diff::diff(&repo, &a_rev, a.b_rev.as_deref(), &bars);
    repo.save_state();
    let mut c = result?;
    c.added.retain(|(path, _)| keep(&a.targets, path));
    c.deleted.retain(|(path, _)| keep(&a.targets, path));
    c.modified.retain(|(path, _, _)| keep(&a.targets, path));
    c.not_in_cache.retain(|path| keep(&a.targets, path));
    // Like DVC: no "not in cache" entries when comparing two revisions or
    // with --hide-missing.
    let hide_missing = a.b_rev.is_some() || a.hide_missing;
    if a.json {
        let mut v = to_json(&c, a.show_hash);
        if hide_missing && let Some(map) = v.as_object_mut() {
            map.remove("not in cache");
        }
        p.json(&v);
    } else {
        if hide_missing {
            c.not_in_cache.clear();
        }
        print_text(&c, a.show_hash, p);
    }
    Ok(0)
}

fn to_json(c: &Changes, show_hash: bool) -> Value {
    if c.is_empty() && c.not_in_cache.is_empty() {
        return json!({});
    }
    let one = |path: &str, oid: &Oid| {
        if show_hash {
            json!({"path": path, "hash": oid.to_string()})
        } else {
            json!({"path": path})
        }
    };
    json!({
        "added": c.added.iter().map(|(p, o)| one(p, o)).collect::<Vec<_>>(),
        "deleted": c.deleted.iter().map(|(p, o)| one(p, o)).collect::<Vec<_>>(),
        "modified": c.modified.iter().map(|(p, old, new)| if show_hash {
            json!({"path": p, "hash": {"old": old.to_string(), "new": new.to_string()}})
        } else {
            json!({"path": p})
        }).collect::<Vec<_>>(),
        "renamed": [],
        "not in cache": c.not_in_cache.iter().map(|p| json!({"path": p})).collect::<Vec<_>>(),
    })
}

fn short(o: &Oid) -> String {
    o.to_string()[..8].to_string()
}

/// One `Title:` block of indented lines (nothing when empty).
fn print_section(p: &Printer, title: &str, lines: Vec<String>) {
    if lines.is_empty() {
        return;
    }
    p.out(format!("{title}:"));
    for l in lines {
        p.out(l);
    }
    p.out("");
}

fn print_text(c: &Changes, show_hash: bool, p: &Printer) {
    if c.is_empty() && c.not_in_cache.is_empty() {
        return;
    }
    let line = |path: &str, hash: String| {
        if show_hash {
            format!("    {hash}  {path}")
        } else {
            format!("    {path}")
        }
    };
    print_section(
        p,
        "Added",
        c.added
            .iter()
            .map(|(path, o)| line(path, short(o)))
            .collect(),
    );
    print_section(
        p,
        "Deleted",
        c.deleted
            .iter()
            .map(|(path, o)| line(path, short(o)))
            .collect(),
    );
    print_section(
        p,
        "Modified",
        c.modified
            .iter()
            .map(|(path, o, n)| line(path, format!("{}..{}", short(o), short(n))))
            .collect(),
    );
    print_section(
        p,
        "Not in cache",
        c.not_in_cache
            .iter()
            .map(|path| format!("    {path}"))
            .collect(),
    );
    // Directories are listed but not counted, and only states with files
    // are summed up, as in DVC.
    let files =
        |paths: &mut dyn Iterator<Item = &String>| paths.filter(|x| !x.ends_with('/')).count();
    let counts = [
        ("added", files(&mut c.added.iter().map(|x| &x.0))),
        ("deleted", files(&mut c.deleted.iter().map(|x| &x.0))),
        ("modified", files(&mut c.modified.iter().map(|x| &x.0))),
        ("not in cache", files(&mut c.not_in_cache.iter())),
    ];
    let summary: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    if !summary.is_empty() {
        p.out(format!("files summary: {}", summary.join(", ")));
    }
}
