//! `dag` output: ASCII, Graphviz dot, Mermaid.

use crate::graph::Graph;

/// Edges `(upstream, downstream)` by name, in stage order of the upstream.
fn edges(g: &Graph) -> Vec<(&str, &str)> {
    let mut idx = Vec::new();
    for (j, ups) in g.upstream.iter().enumerate() {
        for &i in ups {
            idx.push((i, j));
        }
    }
    idx.sort();
    idx.into_iter()
        .map(|(i, j)| (g.stages[i].name.as_str(), g.stages[j].name.as_str()))
        .collect()
}

/// Graphviz dot, as `dvc dag --dot` writes it.
pub fn dot(g: &Graph) -> String {
    let mut s = String::from("strict digraph {\n");
    for st in &g.stages {
        s.push_str(&format!("\"{}\";\n", st.name));
    }
    for (a, b) in edges(g) {
        s.push_str(&format!("\"{a}\" -> \"{b}\";\n"));
    }
    s.push_str("}\n");
    s
}

/// Mermaid flowchart (`--mermaid`); `md` wraps it in a fenced block.
pub fn mermaid(g: &Graph, md: bool) -> String {
    // Nodes are numbered in name order, as DVC does.
    let mut order: Vec<usize> = (0..g.stages.len()).collect();
    order.sort_by(|&a, &b| g.stages[a].name.cmp(&g.stages[b].name));
    let id = |i: usize| order.iter().position(|&x| x == i).unwrap_or(0) + 1;
    let mut s = String::new();
    if md {
        s.push_str("```mermaid\n");
    }
    s.push_str("flowchart TD\n");
    for &i in &order {
        s.push_str(&format!("\tnode{}[\"{}\"]\n", id(i), g.stages[i].name));
    }
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (j, ups) in g.upstream.iter().enumerate() {
        for &i in ups {
            pairs.push((id(i), id(j)));
        }
    }
    pairs.sort();
    for (a, b) in pairs {
        s.push_str(&format!("\tnode{a}-->node{b}\n"));
    }
    if md {
        s.push_str("```\n");
    }
    s
}

/// A simple ASCII rendering: one box per stage in execution order, with the
/// stages each one depends on.
pub fn ascii(g: &Graph) -> String {
    let mut s = String::new();
    let order = g.topo_order();
    for (n, &i) in order.iter().enumerate() {
        let name = &g.stages[i].name;
        let bar = "*".repeat(name.chars().count() + 4);
        s.push_str(&format!("{bar}\n* {name} *\n{bar}\n"));
        let down = g.downstream(i);
        if !down.is_empty() {
            let names: Vec<&str> = down.iter().map(|&d| g.stages[d].name.as_str()).collect();
            s.push_str(&format!("     |\n     v  ({})\n", names.join(", ")));
        } else if n + 1 < order.len() {
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::parse_stages;
    use std::path::Path;

    #[test]
    fn dot_and_mermaid() {
        let root = Path::new("/r");
        let g = Graph::build(
            parse_stages(
                root,
                "stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    deps: [o]\n",
            )
            .unwrap(),
            root,
        )
        .unwrap();
        assert_eq!(
            dot(&g),
            "strict digraph {\n\"a\";\n\"b\";\n\"a\" -> \"b\";\n}\n"
        );
        assert_eq!(
            mermaid(&g, false),
            "flowchart TD\n\tnode1[\"a\"]\n\tnode2[\"b\"]\n\tnode1-->node2\n"
        );
    }
}
