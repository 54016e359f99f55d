//! `strix dag`.

use super::pipeline_common::failure;
use crate::ui::Printer;
use crate::ui::errors::Failure;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the pipeline of this stage.
    target: Option<String>,
    /// Graphviz dot.
    #[arg(long)]
    dot: bool,
    /// Mermaid flowchart.
    #[arg(long)]
    mermaid: bool,
    /// Mermaid inside a markdown code block.
    #[arg(long)]
    md: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (repo, _cwd) = super::open_repo()?;
    let stages = strix_pipeline::load_stages(repo.root()).map_err(failure)?;
    let mut graph = strix_pipeline::Graph::build(stages, repo.root()).map_err(failure)?;
    if let Some(t) = &a.target {
        let idx = strix_pipeline::repro::resolve_targets(&graph, std::slice::from_ref(t))
            .map_err(failure)?;
        let keep = graph.selection(&idx, false);
        let stages: Vec<_> = keep.iter().map(|&i| graph.stages[i].clone()).collect();
        graph = strix_pipeline::Graph::build(stages, repo.root()).map_err(failure)?;
    }
    let text = if a.dot {
        strix_pipeline::render::dot(&graph)
    } else if a.mermaid || a.md {
        strix_pipeline::render::mermaid(&graph, a.md)
    } else {
        strix_pipeline::render::ascii(&graph)
    };
    p.out(text.trim_end_matches('\n'));
    Ok(0)
}
