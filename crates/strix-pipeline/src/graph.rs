//! The stage graph: an edge `a -> b` when an output of `a` is (or contains, or
//! lies inside) a dependency of `b`.

use crate::stage::Stage;
use crate::{Result, msg};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A validated, acyclic stage graph.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Stages in `dvc.yaml` order.
    pub stages: Vec<Stage>,
    /// `upstream[i]`: stages whose outputs stage `i` depends on.
    pub upstream: Vec<BTreeSet<usize>>,
}

/// Entries of `seen` strictly inside the directory `dir`.
fn inside<'a>(
    seen: &'a BTreeMap<&'a Path, usize>,
    dir: &'a Path,
) -> impl Iterator<Item = usize> + 'a {
    use std::ops::Bound::{Excluded, Unbounded};
    seen.range::<Path, _>((Excluded(dir), Unbounded))
        .take_while(move |(p, _)| p.starts_with(dir))
        .map(|(_, &n)| n)
}

impl Graph {
    /// The graph of every stage of the repository (every `dvc.yaml` and
    /// legacy stage file), named as seen from `cwd`.
    pub fn of_repo(repo: &strix_repo::Repo, cwd: &Path) -> Result<Self> {
        Self::build(crate::all_stages(repo, cwd)?, repo.root())
    }

    /// Builds and validates the graph: duplicate or overlapping outputs, a
    /// stage depending on its own output, and cycles are errors.
    pub fn build(stages: Vec<Stage>, root: &Path) -> Result<Self> {
        let rel = |p: &Path| {
            p.strip_prefix(root)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        };
        let all_outs: Vec<(usize, &Path)> = stages
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.outs.iter().map(move |o| (i, o.abs.as_path())))
            .collect();
        // Outputs seen so far, by path: an overlap is an earlier output
        // equal to, above or below the current one (paths compared by
        // component through ancestors and a range, not pair by pair).
        let mut seen: BTreeMap<&Path, usize> = BTreeMap::new();
        for (n, &(j, b)) in all_outs.iter().enumerate() {
            let earlier = b
                .ancestors()
                .find_map(|p| seen.get(p).copied())
                .or_else(|| inside(&seen, b).next());
            if let Some(m) = earlier {
                let (i, a) = all_outs[m];
                let (si, sj) = (&stages[i], &stages[j]);
                return Err(msg(if a == b {
                    format!(
                        "output '{}' is specified in:\n\t- {} ({})\n\t- {} ({})\nUse `strix remove` with any of the above targets to stop tracking the overlapping output.",
                        rel(a),
                        si.name,
                        si.at,
                        sj.name,
                        sj.at
                    )
                } else {
                    format!(
                        "Paths for outs:\n'{}'('{}', {})\n'{}'('{}', {})\noverlap. To avoid unpredictable behaviour, rerun command with non overlapping outs paths.",
                        rel(a),
                        si.name,
                        si.at,
                        rel(b),
                        sj.name,
                        sj.at
                    )
                }));
            }
            seen.insert(b, n);
        }
        let mut upstream = vec![BTreeSet::new(); stages.len()];
        for (j, s) in stages.iter().enumerate() {
            for d in &s.deps {
                let producers = d
                    .abs
                    .ancestors()
                    .filter_map(|p| seen.get(p).copied())
                    .chain(inside(&seen, &d.abs));
                for m in producers {
                    let i = all_outs[m].0;
                    if i == j {
                        return Err(msg(format!(
                            "{}: '{}' is specified as an output and as a dependency of stage '{}'",
                            s.at, d.path, s.name
                        )));
                    }
                    upstream[j].insert(i);
                }
            }
        }
        let g = Graph { stages, upstream };
        g.check_cycles()?;
        Ok(g)
    }

    fn check_cycles(&self) -> Result<()> {
        // 0 = unvisited, 1 = on stack, 2 = done.
        let n = self.stages.len();
        let mut state = vec![0u8; n];
        let mut stack: Vec<usize> = Vec::new();
        fn visit(
            g: &Graph,
            i: usize,
            state: &mut [u8],
            stack: &mut Vec<usize>,
        ) -> Option<Vec<usize>> {
            state[i] = 1;
            stack.push(i);
            for &u in &g.upstream[i] {
                if state[u] == 1 {
                    let pos = stack.iter().position(|&x| x == u).unwrap_or(0);
                    return Some(stack[pos..].to_vec());
                }
                if state[u] == 0
                    && let Some(c) = visit(g, u, state, stack)
                {
                    return Some(c);
                }
            }
            stack.pop();
            state[i] = 2;
            None
        }
        for i in 0..n {
            if state[i] == 0
                && let Some(mut cycle) = visit(self, i, &mut state, &mut stack)
            {
                cycle.reverse();
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&k| format!("'{}' ({})", self.stages[k].name, self.stages[k].at))
                    .collect();
                return Err(msg(format!(
                    "Pipeline has a cycle involving: {}",
                    names.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Index of the stage named `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    /// `targets` plus everything upstream of them, in execution order.
    /// Without targets, all stages.
    pub fn selection(&self, targets: &[usize], single: bool) -> Vec<usize> {
        let mut want = vec![targets.is_empty(); self.stages.len()];
        let mut todo: Vec<usize> = targets.to_vec();
        while let Some(i) = todo.pop() {
            if want[i] {
                continue;
            }
            want[i] = true;
            if !single {
                todo.extend(self.upstream[i].iter().copied());
            }
        }
        self.topo_order().into_iter().filter(|&i| want[i]).collect()
    }

    /// All stages, upstream before downstream, ties in file order.
    pub fn topo_order(&self) -> Vec<usize> {
        let n = self.stages.len();
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let Some(i) = (0..n).find(|&i| !done[i] && self.upstream[i].iter().all(|&u| done[u]))
            else {
                break;
            };
            done[i] = true;
            order.push(i);
        }
        order
    }

    /// Direct downstream stages of `i`.
    pub fn downstream(&self, i: usize) -> Vec<usize> {
        (0..self.stages.len())
            .filter(|&j| self.upstream[j].contains(&i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::parse_stages;

    fn build(text: &str) -> Result<Graph> {
        let root = Path::new("/r");
        Graph::build(parse_stages(root, text)?, root)
    }

    #[test]
    fn edges_and_order() {
        let g = build(
            "stages:\n  b:\n    cmd: x\n    deps: [d/sub/f]\n    outs: [o]\n  a:\n    cmd: y\n    outs: [d]\n  c:\n    cmd: z\n    deps: [o]\n",
        )
        .unwrap();
        assert_eq!(g.upstream[0].iter().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(g.topo_order(), [1, 0, 2]);
        assert_eq!(g.selection(&[0], false), [1, 0]);
        assert_eq!(g.selection(&[0], true), [0]);
    }

    #[test]
    fn cycles_are_reported() {
        let e = build(
            "stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: y\n    deps: [a.txt]\n    outs: [b.txt]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("Pipeline has a cycle involving:"), "{e}");
        assert!(
            e.contains("'a' (dvc.yaml:3)") && e.contains("'b' (dvc.yaml:7)"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_and_overlapping_outputs() {
        let e =
            build("stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n")
                .unwrap_err()
                .to_string();
        assert!(e.starts_with("output 'o' is specified in:"), "{e}");
        let e =
            build("stages:\n  a:\n    cmd: x\n    outs: [d]\n  b:\n    cmd: y\n    outs: [d/f]\n")
                .unwrap_err()
                .to_string();
        assert!(e.starts_with("Paths for outs:"), "{e}");
        let e = build("stages:\n  a:\n    cmd: x\n    deps: [o]\n    outs: [o]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("as an output and as a dependency"), "{e}");
    }

    #[test]
    fn templated_stages_are_expanded() {
        let g =
            build("stages:\n  g:\n    foreach: [a]\n    do:\n      cmd: echo ${item}\n").unwrap();
        assert_eq!(g.stages[0].name, "g@a");
        assert_eq!(g.stages[0].commands(), ["echo a"]);
    }
}
