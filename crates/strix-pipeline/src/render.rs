//! `dag` output: ASCII, Graphviz dot, Mermaid.
//!
//! The graph drawn is DVC's: stages of `dvc.yaml`, legacy `.dvc` stages and
//! data-source `.dvc` files (`dvc add`ed data feeding a stage) as nodes, or
//! with `--outs` the outputs themselves. The ASCII drawing is DVC's too: a
//! layered layout ([`sugiyama`]) drawn on a character grid ([`ascii`]).

pub mod ascii;
pub mod sugiyama;
mod walk;

use crate::graph::Graph;
use crate::stage::Stage;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A graph to draw: names and `(upstream, downstream)` edges by index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dag {
    /// Node labels, in DVC's node order.
    pub nodes: Vec<String>,
    /// Edges `(upstream, downstream)` in the order DVC's graph holds them:
    /// grouped by downstream node in node order, then upstream nodes in the
    /// order DVC adds them (dependency order). The ASCII layout depends on
    /// this order.
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

/// Node order: DVC's, the order its walk of the repository (at `root`)
/// finds the metafiles in ([`walk::walk_order`]): `dvc.yaml`'s stages in
/// file order where `dvc.yaml` comes, each `.dvc` file (legacy stage or data
/// source) where it comes.
fn order(graph: &Graph, sources: &[Source], root: &Path) -> Vec<Node> {
    let yaml: Vec<Node> = (0..graph.stages.len())
        .filter(|&i| !graph.stages[i].is_legacy())
        .map(Node::Stage)
        .collect();
    let mut files: Vec<(&str, Vec<Node>)> = Vec::new();
    if !yaml.is_empty() {
        files.push(("dvc.yaml", yaml));
    }
    files.extend(
        (0..graph.stages.len())
            .filter(|&i| graph.stages[i].is_legacy())
            .map(|i| (graph.stages[i].name.as_str(), vec![Node::Stage(i)])),
    );
    files.extend(
        sources
            .iter()
            .enumerate()
            .map(|(k, s)| (s.name.as_str(), vec![Node::Source(k)])),
    );
    let paths: Vec<&Path> = files.iter().map(|(name, _)| Path::new(*name)).collect();
    walk::walk_order(root, &paths)
        .into_iter()
        .flat_map(|i| files[i].1.clone())
        .collect()
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

fn outs_of<'a>(graph: &'a Graph, sources: &'a [Source], n: Node) -> Vec<&'a Path> {
    match n {
        Node::Stage(i) => graph.stages[i]
            .outs
            .iter()
            .map(|o| o.abs.as_path())
            .collect(),
        Node::Source(k) => sources[k].outs.iter().map(PathBuf::as_path).collect(),
    }
}

/// Every output with the node owning it, in the order DVC's outputs trie
/// yields them: depth first, siblings in the order first inserted (nodes in
/// node order, each node's outputs in order).
fn outs_in_trie_order<'a>(
    graph: &'a Graph,
    sources: &'a [Source],
    nodes: &[Node],
) -> Vec<(&'a Path, usize)> {
    let mut outs: Vec<(Vec<usize>, &Path, usize)> = Vec::new();
    let mut children: HashMap<PathBuf, usize> = HashMap::new();
    let mut seen: HashMap<PathBuf, usize> = HashMap::new();
    for (i, &n) in nodes.iter().enumerate() {
        for path in outs_of(graph, sources, n) {
            let mut key = Vec::new();
            let mut prefix = PathBuf::new();
            for c in path.components() {
                let parent = prefix.clone();
                prefix.push(c.as_os_str());
                let at = *seen.entry(prefix.clone()).or_insert_with(|| {
                    let count = children.entry(parent).or_insert(0);
                    *count += 1;
                    *count - 1
                });
                key.push(at);
            }
            outs.push((key, path, i));
        }
    }
    outs.sort_by(|a, b| a.0.cmp(&b.0));
    outs.into_iter().map(|(_, p, i)| (p, i)).collect()
}

/// Outputs overlapping dependency `dep`, as DVC finds them: an output the
/// dependency is inside of (or equal to) first, then outputs inside the
/// dependency in trie order.
fn overlapping<'a>(
    dep: &'a Path,
    trie: &'a [(&'a Path, usize)],
) -> impl Iterator<Item = usize> + 'a {
    let above = trie
        .iter()
        .enumerate()
        .filter(move |(_, (o, _))| dep.starts_with(o))
        .map(|(k, _)| k);
    let below = trie
        .iter()
        .enumerate()
        .filter(move |(_, (o, _))| o.starts_with(dep) && *o != dep)
        .map(|(k, _)| k);
    above.chain(below)
}

fn push_once(list: &mut Vec<usize>, x: usize) {
    if !list.contains(&x) {
        list.push(x);
    }
}

/// Edges from per-node upstream lists, grouped by downstream node.
fn edges_from(upstream: &[Vec<usize>]) -> Vec<(usize, usize)> {
    upstream
        .iter()
        .enumerate()
        .flat_map(|(b, ups)| ups.iter().map(move |&a| (a, b)))
        .collect()
}

/// The stage graph with data sources, for the repository at `root`.
pub fn stage_dag(graph: &Graph, sources: &[Source], root: &Path) -> Dag {
    let nodes = order(graph, sources, root);
    let label = |n: Node| match n {
        Node::Stage(i) => graph.stages[i].name.clone(),
        Node::Source(k) => sources[k].name.clone(),
    };
    let trie = outs_in_trie_order(graph, sources, &nodes);
    let mut upstream = vec![Vec::new(); nodes.len()];
    for (b, &nb) in nodes.iter().enumerate() {
        for d in deps_of(graph, nb) {
            for k in overlapping(&d.abs, &trie) {
                let a = trie[k].1;
                if a != b {
                    push_once(&mut upstream[b], a);
                }
            }
        }
    }
    Dag {
        nodes: nodes.into_iter().map(label).collect(),
        edges: edges_from(&upstream),
    }
}

/// The outputs graph (`--outs`): an edge from an output to each output of a
/// stage that depends on it, for the repository at `root`. `show` renders a
/// path.
pub fn outs_dag(
    graph: &Graph,
    sources: &[Source],
    root: &Path,
    show: &dyn Fn(&Path) -> String,
) -> Dag {
    let nodes = order(graph, sources, root);
    let trie = outs_in_trie_order(graph, sources, &nodes);
    let mut upstream = vec![Vec::new(); trie.len()];
    for &n in &nodes {
        let Node::Stage(i) = n else { continue };
        let stage: &Stage = &graph.stages[i];
        for d in &stage.deps {
            for from in &stage.outs {
                let Some(b) = trie.iter().position(|(p, _)| *p == from.abs.as_path()) else {
                    continue;
                };
                for a in overlapping(&d.abs, &trie) {
                    if a != b {
                        push_once(&mut upstream[b], a);
                    }
                }
            }
        }
    }
    Dag {
        nodes: trie.iter().map(|(p, _)| show(p)).collect(),
        edges: edges_from(&upstream),
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

    /// `--collapse-foreach-matrix`: the stages generated from one `foreach`
    /// or `matrix` definition (`name@key`) become one node `name`. As in
    /// DVC, the other nodes keep their order and the collapsed ones come
    /// after them (DVC adds them from a set, in no fixed order; here in the
    /// order first met). Edges between stages of one definition are dropped
    /// (DVC would keep them as a loop on the node).
    pub fn collapse_foreach_matrix(&self) -> Dag {
        let group = |n: &str| n.split_once('@').map(|(g, _)| g.to_owned());
        let mut nodes: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| group(n).is_none())
            .cloned()
            .collect();
        for g in self.nodes.iter().filter_map(|n| group(n)) {
            if !nodes.contains(&g) {
                nodes.push(g);
            }
        }
        let index = |old: usize| {
            let name = group(&self.nodes[old]).unwrap_or_else(|| self.nodes[old].clone());
            nodes.iter().position(|n| *n == name).unwrap_or(0)
        };
        let mut upstream = vec![Vec::new(); nodes.len()];
        for &(a, b) in &self.edges {
            let (a, b) = (index(a), index(b));
            if a != b {
                push_once(&mut upstream[b], a);
            }
        }
        Dag {
            edges: edges_from(&upstream),
            nodes,
        }
    }

    /// Graphviz dot, as `dvc dag --dot` writes it.
    pub fn dot(&self) -> String {
        let mut s = String::from("strict digraph {\n");
        for n in &self.nodes {
            s.push_str(&format!("\"{n}\";\n"));
        }
        // DVC writes the reversed graph: by upstream node, then downstream.
        let mut edges = self.edges.clone();
        edges.sort();
        for &(a, b) in &edges {
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

    /// The ASCII drawing `dvc dag` prints: one layered drawing per
    /// pipeline (connected component), separated by newlines, with no
    /// newline at the end. Lines are padded with spaces to the drawing's
    /// width, as DVC's are.
    pub fn ascii(&self) -> String {
        let mut out = Vec::new();
        for comp in self.components() {
            let local: HashMap<usize, usize> =
                comp.iter().enumerate().map(|(k, &i)| (i, k)).collect();
            let labels: Vec<String> = comp.iter().map(|&i| self.nodes[i].clone()).collect();
            let edges: Vec<(usize, usize)> = self
                .edges
                .iter()
                .filter_map(|(a, b)| Some((*local.get(a)?, *local.get(b)?)))
                .collect();
            out.push(ascii::draw(&labels, &edges));
        }
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::parse_stages;

    fn dag(text: &str, sources: &[Source]) -> Dag {
        let root = Path::new("/r");
        let g = Graph::build(parse_stages(root, text).unwrap(), root).unwrap();
        stage_dag(&g, sources, root)
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
