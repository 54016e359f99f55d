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
    /// Show the result as a Markdown table.
    #[arg(long = "md", conflicts_with = "json")]
    markdown: bool,
}

fn keep(targets: &[String], path: &str) -> bool {
    targets.is_empty()
        || targets.iter().any(|t| {
            let t = t.trim_end_matches('/');
            path == t || path.starts_with(&format!("{t}/"))
        })
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, _cwd) = super::open_repo_settled()?;
    let bars = Bars::new(p.quiet || a.json);
    let a_rev = a.a_rev.clone().unwrap_or_else(|| "HEAD".into());
    let result = strix_repo::diff::diff(&repo, &a_rev, a.b_rev.as_deref(), &bars);
    repo.save_state();
    let mut c = result?;
    c.added.retain(|(path, _)| keep(&a.targets, path));
    c.deleted.retain(|(path, _)| keep(&a.targets, path));
    c.modified.retain(|(path, _, _)| keep(&a.targets, path));
    c.not_in_cache.retain(|(path, _)| keep(&a.targets, path));
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
        if a.markdown {
            print_markdown(&c, a.show_hash, p);
        } else {
            print_text(&c, a.show_hash, p);
        }
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
        "not in cache": c.not_in_cache.iter().map(|(p, o)| one(p, o)).collect::<Vec<_>>(),
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

/// DVC's states of a diff entry, in its order ("renamed" never occurs here).
const STATES: [&str; 4] = ["added", "deleted", "modified", "not in cache"];

/// The entries of a diff in DVC's order of states, each as (state, short
/// hash, path).
fn rows(c: &Changes) -> Vec<(&'static str, String, &str)> {
    let mut rows = Vec::new();
    rows.extend(c.added.iter().map(|(p, o)| ("added", short(o), p.as_str())));
    rows.extend(
        c.deleted
            .iter()
            .map(|(p, o)| ("deleted", short(o), p.as_str())),
    );
    rows.extend(c.modified.iter().map(|(p, o, n)| {
        (
            "modified",
            format!("{}..{}", short(o), short(n)),
            p.as_str(),
        )
    }));
    rows.extend(
        c.not_in_cache
            .iter()
            .map(|(p, o)| ("not in cache", short(o), p.as_str())),
    );
    rows
}

fn print_text(c: &Changes, show_hash: bool, p: &Printer) {
    let rows = rows(c);
    for state in STATES {
        let lines: Vec<String> = rows
            .iter()
            .filter(|r| r.0 == state)
            .map(|(_, hash, path)| {
                if show_hash {
                    format!("    {hash}  {path}")
                } else {
                    format!("    {path}")
                }
            })
            .collect();
        // Python's `str.capitalize`: "Not in cache".
        let mut title = state.to_string();
        title[..1].make_ascii_uppercase();
        print_section(p, &title, lines);
    }
    // Directories are listed but not counted, and only states with files
    // are summed up, as in DVC.
    let summary: Vec<String> = STATES
        .iter()
        .map(|state| {
            let n = rows
                .iter()
                .filter(|r| r.0 == *state && !r.2.ends_with('/'))
                .count();
            (state, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    if !summary.is_empty() {
        p.out(format!("files summary: {}", summary.join(", ")));
    }
}

/// `--md`: the table DVC prints (tabulate's GitHub format: each column as
/// wide as its widest cell, and at least its header and two spaces), then
/// an empty line.
fn print_markdown(c: &Changes, show_hash: bool, p: &Printer) {
    let headers: &[&str] = if show_hash {
        &["Status", "Hash", "Path"]
    } else {
        &["Status", "Path"]
    };
    let rows = rows(c);
    let table: Vec<Vec<&str>> = rows
        .iter()
        .map(|(state, hash, path)| {
            if show_hash {
                vec![*state, hash.as_str(), *path]
            } else {
                vec![*state, *path]
            }
        })
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len() + 2])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    p.out(line(headers));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    p.out(format!("|{}|", rule.join("|")));
    for r in &table {
        p.out(line(r));
    }
    p.out("");
}
