//! `dag` output: ASCII, Graphviz dot, Mermaid.
//!
//! The graph drawn is DVC's: stages of `dvc.yaml`, legacy `.dvc` stages and
//! data-source `.dvc` files (`dvc add`ed data feeding a stage) as nodes, or
//! with `--outs` the outputs themselves.

use crate::graph::Graph;
use crate::stage::Stage;
use std::path::{Path, PathBuf};

/// A graph to draw: names and `(upstream, downstream)` edges by index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dag {
    /// Node labels, in DVC's node order.
    pub nodes: Vec<String>,
    /// Edges `(upstream, downstream)`.
    pub edges: Vec<(usize, usize)>,
}

/// A data source: a `.dvc` file (repo-relative name) and its outputs.
#[derive(Debug, Clone)]
pub struct Source {
    /// Repo-relative path of the `.dvc` file.
    pub name: String,
    /// Absolute paths of its outputs.
    pub outs: Vec<PathBuf>,
}

fn overlaps(a: &Path, b: &Path) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Node order: `dvc.yaml` stages first, then `.dvc` files (legacy stages and
/// data sources) by path.
fn order(graph: &Graph, sources: &[Source]) -> Vec<Node> {
    let mut nodes: Vec<Node> = (0..graph.stages.len())
        .filter(|&i| !graph.stages[i].is_legacy())
        .map(Node::Stage)
        .collect();
    let mut files: Vec<(String, Node)> = (0..graph.stages.len())
        .filter(|&i| graph.stages[i].is_legacy())
        .map(|i| (graph.stages[i].name.clone(), Node::Stage(i)))
        .chain(
            sources
                .iter()
                .enumerate()
                .map(|(k, s)| (s.name.clone(), Node::Source(k))),
        )
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    nodes.extend(files.into_iter().map(|(_, n)| n));
    nodes
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    Stage(usize),
    Source(usize),
}

fn deps_of(graph: &Graph, n: Node) -> &[crate::stage::Dep] {
    match n {
        Node::Stage(i) => &graph.stages[i].deps,
        Node::Source(_) => &[],
    }
}

/// The stage graph with data sources.
pub fn stage_dag(graph: &Graph, sources: &[Source]) -> Dag {
    let nodes = order(graph, sources);
    let label = |n: Node| match n {
        Node::Stage(i) => graph.stages[i].name.clone(),
        Node::Source(k) => sources[k].name.clone(),
    };
    let outs_of = |n: Node| -> Vec<&Path> {
        match n {
            Node::Stage(i) => graph.stages[i]
                .outs
                .iter()
                .map(|o| o.abs.as_path())
                .collect(),
            Node::Source(k) => sources[k].outs.iter().map(PathBuf::as_path).collect(),
        }
    };
    let mut edges = Vec::new();
    for (b, &nb) in nodes.iter().enumerate() {
        for (a, &na) in nodes.iter().enumerate() {
            if a != b
                && deps_of(graph, nb)
                    .iter()
                    .any(|d| outs_of(na).iter().any(|o| overlaps(&d.abs, o)))
            {
                edges.push((a, b));
            }
        }
    }
    edges.sort();
    Dag {
        nodes: nodes.into_iter().map(label).collect(),
        edges,
    }
}

/// The outputs graph (`--outs`): an edge from an output to each output of a
/// stage that depends on it. `show` renders a path.
pub fn outs_dag(graph: &Graph, sources: &[Source], show: &dyn Fn(&Path) -> String) -> Dag {
    let order = order(graph, sources);
    let mut outs: Vec<(PathBuf, Option<&Stage>)> = Vec::new();
    for n in &order {
        match *n {
            Node::Stage(i) => {
                let s = &graph.stages[i];
                outs.extend(s.outs.iter().map(|o| (o.abs.clone(), Some(s))));
            }
            Node::Source(k) => outs.extend(sources[k].outs.iter().map(|o| (o.clone(), None))),
        }
    }
    let mut edges = Vec::new();
    for (b, (_, sb)) in outs.iter().enumerate() {
        let Some(sb) = sb else { continue };
        for (a, (pa, _)) in outs.iter().enumerate() {
            if a != b && sb.deps.iter().any(|d| overlaps(&d.abs, pa)) {
                edges.push((a, b));
            }
        }
    }
    edges.sort();
    edges.dedup();
    Dag {
        nodes: outs.iter().map(|(p, _)| show(p)).collect(),
        edges,
    }
}

impl Dag {
    /// Keeps the part of the graph `dag TARGET` shows: the target's upstream
    /// (or with `full` everything), then the connected component(s) of the
    /// targets.
    pub fn filter(&self, targets: &[usize], full: bool) -> Dag {
        if targets.is_empty() {
            return self.clone();
        }
        let n = self.nodes.len();
        let mut keep = vec![full; n];
        if !full {
            let mut todo = targets.to_vec();
            while let Some(i) = todo.pop() {
                if keep[i] {
                    continue;
                }
                keep[i] = true;
                todo.extend(self.edges.iter().filter(|e| e.1 == i).map(|e| e.0));
            }
        }
        let mut conn = vec![false; n];
        let mut todo = targets.to_vec();
        while let Some(i) = todo.pop() {
            if conn[i] || !keep[i] {
                continue;
            }
            conn[i] = true;
            for &(a, b) in &self.edges {
                if a == i && keep[b] {
                    todo.push(b);
                }
                if b == i && keep[a] {
                    todo.push(a);
                }
            }
        }
        let map: Vec<Option<usize>> = {
            let mut next = 0;
            conn.iter()
                .map(|&c| {
                    c.then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect()
        };
        Dag {
            nodes: (0..n)
                .filter(|&i| conn[i])
                .map(|i| self.nodes[i].clone())
                .collect(),
            edges: self
                .edges
                .iter()
                .filter_map(|&(a, b)| Some((map[a]?, map[b]?)))
                .collect(),
        }
    }

    /// Weakly connected components, ordered by their first node (as
    /// networkx yields them).
    fn components(&self) -> Vec<Vec<usize>> {
        let n = self.nodes.len();
        let mut seen = vec![false; n];
        let mut out = Vec::new();
        for start in 0..n {
            if seen[start] {
                continue;
            }
            let mut comp = Vec::new();
            let mut todo = vec![start];
            seen[start] = true;
            while let Some(i) = todo.pop() {
                comp.push(i);
                for &(a, b) in &self.edges {
                    for (x, y) in [(a, b), (b, a)] {
                        if x == i && !seen[y] {
                            seen[y] = true;
                            todo.push(y);
                        }
                    }
                }
            }
            comp.sort();
            out.push(comp);
        }
        out
    }

    /// Graphviz dot, as `dvc dag --dot` writes it.
    pub fn dot(&self) -> String {
        let mut s = String::from("strict digraph {\n");
        for n in &self.nodes {
            s.push_str(&format!("\"{n}\";\n"));
        }
        for &(a, b) in &self.edges {
            s.push_str(&format!(
                "\"{}\" -> \"{}\";\n",
                self.nodes[a], self.nodes[b]
            ));
        }
        s.push_str("}\n");
        s
    }

    /// Mermaid flowchart (`--mermaid`); `md` wraps it in a fenced block.
    pub fn mermaid(&self, md: bool) -> String {
        let mut s = String::from("flowchart TD");
        let mut total = 0;
        for comp in self.components() {
            let mut names: Vec<&str> = comp.iter().map(|&i| self.nodes[i].as_str()).collect();
            names.sort();
            let mut ids = std::collections::HashMap::new();
            for name in names {
                total += 1;
                s.push_str(&format!("\n\tnode{total}[\"{name}\"]"));
                ids.insert(name, total);
            }
            let mut edges: Vec<(&str, &str)> = self
                .edges
                .iter()
                .filter(|(a, _)| comp.contains(a))
                .map(|&(a, b)| (self.nodes[a].as_str(), self.nodes[b].as_str()))
                .collect();
            edges.sort();
            for (a, b) in edges {
                s.push_str(&format!("\n\tnode{}-->node{}", ids[a], ids[b]));
            }
        }
        if md {
            format!("```mermaid\n{s}\n```\n")
        } else {
            s.push('\n');
            s
        }
    }

    /// A simple ASCII rendering, one pipeline after another: one box per
    /// node in dependency order, with the nodes each one feeds.
    pub fn ascii(&self) -> String {
        let mut s = String::new();
        for comp in self.components() {
            // Topological order within the component, ties by node order.
            let mut done: Vec<usize> = Vec::new();
            while done.len() < comp.len() {
                let Some(&i) = comp.iter().find(|&&i| {
                    !done.contains(&i)
                        && self
                            .edges
                            .iter()
                            .filter(|e| e.1 == i)
                            .all(|e| done.contains(&e.0))
                }) else {
                    break;
                };
                done.push(i);
            }
            for &i in &done {
                let name = &self.nodes[i];
                let bar = format!("+{}+", "-".repeat(name.chars().count() + 2));
                s.push_str(&format!("{bar}\n| {name} |\n{bar}\n"));
                let down: Vec<&str> = self
                    .edges
                    .iter()
                    .filter(|e| e.0 == i)
                    .map(|e| self.nodes[e.1].as_str())
                    .collect();
                if !down.is_empty() {
                    s.push_str(&format!("     *\n     *  ({})\n     *\n", down.join(", ")));
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::parse_stages;

    fn dag(text: &str, sources: &[Source]) -> Dag {
        let root = Path::new("/r");
        let g = Graph::build(parse_stages(root, text).unwrap(), root).unwrap();
        stage_dag(&g, sources)
    }

    /// Expected texts from `dvc dag --dot` / `--mermaid` (DVC 3.67.1).
    #[test]
    fn dot_and_mermaid_like_dvc() {
        let d = dag(
            "stages:\n  prepare:\n    cmd: a\n    deps: [raw.txt]\n    outs: [prep.txt]\n  train:\n    cmd: b\n    deps: [prep.txt]\n    outs: [model]\n  eval:\n    cmd: c\n    deps: [model, prep.txt]\n    metrics: [{m.json: {cache: false}}]\n  other:\n    cmd: d\n    outs: [o.txt]\n",
            &[Source {
                name: "raw.txt.dvc".into(),
                outs: vec![PathBuf::from("/r/raw.txt")],
            }],
        );
        assert_eq!(
            d.dot(),
            "strict digraph {\n\"prepare\";\n\"train\";\n\"eval\";\n\"other\";\n\"raw.txt.dvc\";\n\"prepare\" -> \"train\";\n\"prepare\" -> \"eval\";\n\"train\" -> \"eval\";\n\"raw.txt.dvc\" -> \"prepare\";\n}\n"
        );
        assert_eq!(
            d.mermaid(false),
            "flowchart TD\n\tnode1[\"eval\"]\n\tnode2[\"prepare\"]\n\tnode3[\"raw.txt.dvc\"]\n\tnode4[\"train\"]\n\tnode2-->node1\n\tnode2-->node4\n\tnode3-->node2\n\tnode4-->node1\n\tnode5[\"other\"]\n"
        );
        let t = d.filter(&[1], false);
        assert_eq!(t.nodes, ["prepare", "train", "raw.txt.dvc"]);
        let t = d.filter(&[1], true);
        assert_eq!(t.nodes, ["prepare", "train", "eval", "raw.txt.dvc"]);
    }
}
