//! `strix dag`.

use super::pipeline_common::failure;
use crate::ui::Printer;
use crate::ui::errors::Failure;
use strix_pipeline::render::{Source, outs_dag, stage_dag};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the pipeline of this stage (or `.dvc` file).
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
    /// The whole pipeline of the target, not only its upstream.
    #[arg(long)]
    full: bool,
    /// Draw outputs instead of stages.
    #[arg(short = 'o', long)]
    outs: bool,
    /// One node for the stages of each foreach/matrix definition.
    #[arg(long)]
    collapse_foreach_matrix: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    if a.outs && a.collapse_foreach_matrix {
        return Err(Failure::new(
            anyhow::anyhow!("`--outs` and `--collapse-foreach-matrix` are mutually exclusive"),
            255,
        ));
    }
    let (repo, cwd) = super::open_repo_settled()?;
    let stages = strix_pipeline::all_stages(&repo, &cwd).map_err(failure)?;
    let graph = strix_pipeline::Graph::build(stages, repo.root()).map_err(failure)?;
    let mut sources = Vec::new();
    for f in strix_repo::index::load_all(&repo)? {
        let outs = f
            .file
            .outs
            .iter()
            .filter_map(|o| f.out_path(&repo, o).ok())
            .collect();
        sources.push(Source {
            name: repo.rel(&f.path),
            outs,
        });
    }
    let show = |path: &std::path::Path| super::display_rel(&cwd, path);
    let dag = if a.outs {
        outs_dag(&graph, &sources, repo.root(), &show)
    } else {
        stage_dag(&graph, &sources, repo.root())
    };
    let targets: Vec<usize> = match &a.target {
        None => Vec::new(),
        Some(t) => {
            let names: Vec<String> = match strix_pipeline::repro::resolve_targets_in(
                &graph,
                &cwd,
                std::slice::from_ref(t),
                false,
            ) {
                Ok(idx) if !idx.is_empty() => {
                    if a.outs {
                        idx.iter()
                            .flat_map(|&i| graph.stages[i].outs.iter().map(|o| show(&o.abs)))
                            .collect()
                    } else {
                        idx.iter().map(|&i| graph.stages[i].name.clone()).collect()
                    }
                }
                // A data-source `.dvc` file.
                Ok(_) => {
                    let rel = repo.rel(&strix_repo::repo::normalize(&cwd.join(t)));
                    match sources.iter().find(|s| s.name == rel) {
                        Some(s) if a.outs => s.outs.iter().map(|o| show(o)).collect(),
                        Some(s) => vec![s.name.clone()],
                        None => Vec::new(),
                    }
                }
                Err(e) => return Err(failure(e)),
            };
            names
                .iter()
                .filter_map(|n| dag.nodes.iter().position(|x| x == n))
                .collect()
        }
    };
    let mut dag = dag.filter(&targets, a.full);
    if a.collapse_foreach_matrix {
        dag = dag.collapse_foreach_matrix();
    }
    if a.dot {
        // DVC's dot text ends with a newline and it prints one more.
        p.out(dag.dot());
    } else if a.mermaid || a.md {
        p.out(dag.mermaid(a.md).trim_end_matches('\n'));
    } else {
        // DVC pages the drawing on a terminal; it can be wider than one.
        p.page(&dag.ascii());
    }
    Ok(0)
}
