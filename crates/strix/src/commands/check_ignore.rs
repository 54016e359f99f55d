//! `strix check-ignore`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths to check.
    targets: Vec<PathBuf>,
    /// Show the matching pattern and its file:line.
    #[arg(short, long)]
    details: bool,
    /// Include non-matching paths in the details output.
    #[arg(short, long)]
    non_matching: bool,
    /// Show all patterns that match, not only the last one.
    #[arg(short, long)]
    all: bool,
    /// Read paths from standard input.
    #[arg(long)]
    stdin: bool,
}

/// DVC's `_check_args`, message for message (its errors exit 255).
fn check_args(a: &Args, p: &Printer) -> Result<(), Failure> {
    let refuse = |m: &str| Err(Failure::new(anyhow::anyhow!("{m}"), 255));
    if a.stdin && !a.targets.is_empty() {
        return refuse("cannot have both `targets` and `--stdin`");
    }
    if a.non_matching && !a.details {
        return refuse("`--non-matching` is only valid with `--details`");
    }
    if a.all && !a.details {
        return refuse("`--all` is only valid with `--details`");
    }
    if p.quiet && a.details {
        return refuse("cannot use both `--details` and `--quiet`");
    }
    Ok(())
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    check_args(&a, p)?;
    let (repo, cwd) = super::open_repo()?;
    let mut targets = a.targets.clone();
    if a.stdin {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if !line.is_empty() {
                targets.push(PathBuf::from(line));
            }
        }
    }
    if targets.is_empty() {
        return Err(Failure::new(
            anyhow::anyhow!("the following arguments are required: targets"),
            254,
        ));
    }
    let rules = strix_repo::ignore_rules::IgnoreRules::load(&repo);
    let mut any = false;
    for t in &targets {
        let abs = cwd.join(t);
        let m = rules.check(&repo, &abs);
        match m {
            Some(hit) if !hit.negated => {
                any = true;
                if a.details {
                    p.out(format!(
                        "{}:{}:{}\t{}",
                        super::display_rel(&cwd, &hit.file),
                        hit.line,
                        hit.pattern,
                        t.display()
                    ));
                } else {
                    p.out(t.display().to_string());
                }
            }
            Some(hit) => {
                if a.details && a.non_matching {
                    p.out(format!(
                        "{}:{}:{}\t{}",
                        super::display_rel(&cwd, &hit.file),
                        hit.line,
                        hit.pattern,
                        t.display()
                    ));
                }
            }
            None => {
                if a.details && a.non_matching {
                    p.out(format!("::\t{}", t.display()));
                }
            }
        }
    }
    Ok(if any { 0 } else { 1 })
}
