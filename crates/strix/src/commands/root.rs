//! `strix root`.

use crate::ui::Printer;
use crate::ui::errors::Failure;

pub fn run(p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo()?;
    p.out(super::display_rel(&cwd, repo.root()));
    Ok(0)
}
