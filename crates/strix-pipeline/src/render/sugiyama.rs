//! Layered ("Sugiyama") graph layout, computed the way grandalf 0.8 does it
//! for `dvc dag`, so that the drawing comes out the same.
//!
//! The steps, each with grandalf's own tie-breaking:
//!
//! 1. **Ranks.** Roots (in grandalf's vertex order, see [`vertex_order`]) get
//!    rank 0; a vertex is ranked once all its inward edges are scanned, one
//!    more than its highest predecessor. Then each predecessor whose
//!    successors all sit at or below a vertex is pushed down to the layer
//!    just above it (and moved to the end of that layer, even when its rank
//!    does not change).
//! 2. **Dummies.** An edge spanning several layers gets one dummy vertex per
//!    inner layer, appended to the layer.
//! 3. **Ordering.** One sweep down (and, if that found crossings, back up),
//!    then one more sweep down. A layer with crossings against the previous
//!    layer is sorted by the mean position of its neighbours there, then one
//!    pass swaps adjacent vertices when that reduces crossings.
//! 4. **Coordinates.** Brandes & Köpf: four vertical alignments (left/right ×
//!    up/down) with horizontal compaction; a vertex's x is the mean of the two
//!    middle values of the four. Layers are `height + yspace` apart.
//! 5. **Edges.** A polyline through the dummies, clipped at both ends to the
//!    vertex boxes (as grandalf's `route_with_lines`).
//!
//! Coordinates are floats, as in grandalf, and every operation is done in the
//! same order so that the rounding in the canvas lands on the same cells.

use std::collections::{HashMap, HashSet};

/// A point `(x, y)`; y grows downwards.
pub type Point = (f64, f64);

/// The computed layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Centre of each vertex, by input index.
    pub centers: Vec<Point>,
    /// The route of each edge, by input index: from the upstream box border
    /// through the dummy points to the downstream box border.
    pub routes: Vec<Vec<Point>>,
}

/// What to lay out: vertex sizes, edges and spacing.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// Width of each vertex box.
    pub widths: &'a [u32],
    /// Height of every vertex box.
    pub height: u32,
    /// Edges `(upstream, downstream)`, in insertion order.
    pub edges: &'a [(usize, usize)],
    /// Minimum horizontal gap between boxes.
    pub xspace: f64,
    /// Vertical gap between layers.
    pub yspace: f64,
}

/// The order grandalf keeps a connected graph's vertices in: each vertex
/// starts alone, and every edge `(a, b)` joining two groups appends `b`'s
/// group to `a`'s. Vertices not reached by any edge keep their own group;
/// the result lists the group of vertex 0's final owner, then the others.
pub fn vertex_order(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut groups: Vec<Vec<usize>> = (0..n).map(|v| vec![v]).collect();
    let mut owner: Vec<usize> = (0..n).collect();
    for &(a, b) in edges {
        let (ga, gb) = (owner[a], owner[b]);
        if ga != gb {
            let moved = std::mem::take(&mut groups[gb]);
            for &v in &moved {
                owner[v] = ga;
            }
            groups[ga].extend(moved);
        }
    }
    groups.into_iter().flatten().collect()
}

/// One vertex of the layered graph: a real vertex or a dummy.
#[derive(Debug, Clone)]
struct Node {
    rank: usize,
    pos: usize,
    bar: f64,
    width: f64,
    height: f64,
    /// For a dummy, the edge it belongs to.
    dummy_of: Option<usize>,
    /// Neighbours in the layer above / below (dummies stand in for long edges).
    up: Vec<usize>,
    down: Vec<usize>,
    /// Brandes & Köpf state.
    root: usize,
    align: usize,
    sink: usize,
    shift: f64,
    xb: Option<f64>,
    x: [f64; 4],
    center: Point,
}

struct Sugiyama<'a> {
    input: &'a Input<'a>,
    nodes: Vec<Node>,
    /// Edges of each real vertex, in attach order.
    incident: Vec<Vec<usize>>,
    layers: Vec<Vec<usize>>,
    /// `1 / (len - 1)` per layer (1.0 for a single vertex).
    step: Vec<f64>,
    /// For an edge spanning several layers: its vertex at each rank.
    ctrl: HashMap<usize, HashMap<usize, usize>>,
    conflicts: HashSet<(usize, usize)>,
}

/// Lays out a connected DAG.
pub fn layout(input: &Input<'_>) -> Layout {
    let mut s = Sugiyama::new(input);
    s.rank_all();
    s.add_dummies();
    s.setup_layers();
    s.order_sweep(false);
    s.order_sweep(true);
    s.set_xy();
    Layout {
        centers: (0..input.widths.len()).map(|v| s.nodes[v].center).collect(),
        routes: (0..input.edges.len()).map(|e| s.route(e)).collect(),
    }
}

impl<'a> Sugiyama<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        let n = input.widths.len();
        let mut incident = vec![Vec::new(); n];
        for (k, &(a, b)) in input.edges.iter().enumerate() {
            incident[a].push(k);
            if b != a {
                incident[b].push(k);
            }
        }
        let nodes = (0..n)
            .map(|v| Node {
                rank: 0,
                pos: 0,
                bar: 0.0,
                width: f64::from(input.widths[v]),
                height: f64::from(input.height),
                dummy_of: None,
                up: Vec::new(),
                down: Vec::new(),
                root: v,
                align: v,
                sink: v,
                shift: f64::INFINITY,
                xb: None,
                x: [0.0; 4],
                center: (0.0, 0.0),
            })
            .collect();
        Sugiyama {
            input,
            nodes,
            incident,
            layers: Vec::new(),
            step: Vec::new(),
            ctrl: HashMap::new(),
            conflicts: HashSet::new(),
        }
    }

    /// Predecessors of real vertex `v`, in attach order.
    fn preds(&self, v: usize) -> impl Iterator<Item = usize> + '_ {
        let edges = self.input.edges;
        self.incident[v]
            .iter()
            .filter(move |&&k| edges[k].1 == v)
            .map(move |&k| edges[k].0)
    }

    /// Successors of real vertex `v`, in attach order.
    fn succs(&self, v: usize) -> impl Iterator<Item = usize> + '_ {
        let edges = self.input.edges;
        self.incident[v]
            .iter()
            .filter(move |&&k| edges[k].0 == v)
            .map(move |&k| edges[k].1)
    }

    fn in_edges(&self, v: usize) -> impl Iterator<Item = usize> + '_ {
        let edges = self.input.edges;
        self.incident[v]
            .iter()
            .copied()
            .filter(move |&k| edges[k].1 == v)
    }

    fn rank_all(&mut self) {
        let n = self.input.widths.len();
        let order = vertex_order(n, self.input.edges);
        let roots: Vec<usize> = order
            .into_iter()
            .filter(|&v| self.in_edges(v).next().is_none())
            .collect();
        let mut ranked = vec![false; n];
        let mut scanned = vec![false; self.input.edges.len()];
        let mut todo = roots;
        while !todo.is_empty() {
            let mut next: Vec<usize> = Vec::new();
            for &v in &todo {
                let rank = self
                    .preds(v)
                    .filter(|&p| ranked[p])
                    .map(|p| self.nodes[p].rank + 1)
                    .max()
                    .unwrap_or(0);
                self.nodes[v].rank = rank;
                ranked[v] = true;
                if rank == self.layers.len() {
                    self.layers.push(Vec::new());
                }
                self.layers[rank].push(v);
                for &k in &self.incident[v] {
                    if self.input.edges[k].0 == v {
                        scanned[k] = true;
                    }
                }
                for x in self.succs(v) {
                    if self.in_edges(x).all(|k| scanned[k]) && !next.contains(&x) {
                        next.push(x);
                    }
                }
            }
            todo = next;
        }
        // Push predecessors down next to their highest successor.
        for li in (0..self.layers.len()).rev() {
            let mut i = 0;
            while i < self.layers[li].len() {
                let v = self.layers[li][i];
                let rank = self.nodes[v].rank;
                let preds: Vec<usize> = self.preds(v).collect();
                for x in preds {
                    if self.succs(x).all(|y| self.nodes[y].rank >= rank) {
                        let old = self.nodes[x].rank;
                        if let Some(at) = self.layers[old].iter().position(|&y| y == x) {
                            self.layers[old].remove(at);
                        }
                        self.nodes[x].rank = rank - 1;
                        self.layers[rank - 1].push(x);
                    }
                }
                i += 1;
            }
        }
    }

    fn add_dummies(&mut self) {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let real = 0..self.input.widths.len();
        let dw = median(real.clone().map(|v| self.nodes[v].width).collect());
        let dh = median(real.map(|v| self.nodes[v].height).collect());
        // grandalf visits a component's edges in the order of a `set` of
        // edge objects (memory addresses); strix takes them in insertion
        // order: vertices in grandalf's order, each one's edges as attached.
        let mut visited = vec![false; self.input.edges.len()];
        let mut edge_order = Vec::new();
        for v in vertex_order(self.input.widths.len(), self.input.edges) {
            for &k in &self.incident[v] {
                if !std::mem::replace(&mut visited[k], true) {
                    edge_order.push(k);
                }
            }
        }
        for k in edge_order {
            let (a, b) = self.input.edges[k];
            let (r0, r1) = (self.nodes[a].rank, self.nodes[b].rank);
            let (r0, r1, a, b) = if r0 > r1 {
                (r1, r0, b, a)
            } else {
                (r0, r1, a, b)
            };
            if r1 - r0 <= 1 {
                continue;
            }
            let mut ctrl = HashMap::from([(r0, a), (r1, b)]);
            for r in r0 + 1..r1 {
                let d = self.nodes.len();
                self.nodes.push(Node {
                    rank: r,
                    width: dw,
                    height: dh,
                    dummy_of: Some(k),
                    root: d,
                    align: d,
                    sink: d,
                    ..self.nodes[a].clone()
                });
                ctrl.insert(r, d);
                self.layers[r].push(d);
            }
            self.ctrl.insert(k, ctrl);
        }
    }

    /// Positions, bars and layer neighbours.
    fn setup_layers(&mut self) {
        for layer in &self.layers {
            let step = if layer.len() > 1 {
                1.0 / (layer.len() - 1) as f64
            } else {
                1.0
            };
            self.step.push(step);
            for (i, &v) in layer.iter().enumerate() {
                self.nodes[v].pos = i;
                self.nodes[v].bar = i as f64 * step;
            }
        }
        for v in 0..self.nodes.len() {
            let rank = self.nodes[v].rank;
            let (up, down) = match self.nodes[v].dummy_of {
                Some(k) => {
                    let ctrl = &self.ctrl[&k];
                    (vec![ctrl[&(rank - 1)]], vec![ctrl[&(rank + 1)]])
                }
                None => {
                    let through = |x: usize, r: usize| {
                        if self.nodes[x].rank == r {
                            return x;
                        }
                        // The first edge joining v and x, either way.
                        let k = self.incident[v]
                            .iter()
                            .copied()
                            .find(|&k| {
                                let (a, b) = self.input.edges[k];
                                a == x || b == x
                            })
                            .expect("an edge to a neighbour");
                        self.ctrl[&k][&r]
                    };
                    let up = self
                        .preds(v)
                        .map(|x| through(x, rank.wrapping_sub(1)))
                        .collect();
                    let down = self.succs(v).map(|x| through(x, rank + 1)).collect();
                    (up, down)
                }
            };
            self.nodes[v].up = up;
            self.nodes[v].down = down;
        }
    }

    /// Neighbours of `v` in the layer `dirv` away (-1 above, +1 below).
    fn neighbours(&self, v: usize, dirv: i32) -> &[usize] {
        if dirv < 0 {
            &self.nodes[v].up
        } else {
            &self.nodes[v].down
        }
    }

    /// The layer the ordering of layer `li` looks at when sweeping `dirv`.
    fn prev_layer(&self, li: usize, dirv: i32) -> Option<usize> {
        let p = if dirv < 0 { li.checked_sub(1)? } else { li + 1 };
        (p < self.layers.len() && !self.layers[p].is_empty()).then_some(p)
    }

    /// One ordering sweep: down all layers, then (unless `oneway` or no
    /// crossings were found) back up from the last one.
    fn order_sweep(&mut self, oneway: bool) {
        let mut crossings = 0;
        for li in 0..self.layers.len() {
            crossings += self.order_layer(li, -1);
        }
        if oneway || crossings == 0 {
            return;
        }
        let mut li = self.layers.len() - 1;
        loop {
            if self.layers[li].is_empty() {
                break;
            }
            self.order_layer(li, 1);
            if li == 0 {
                break;
            }
            li -= 1;
        }
    }

    /// Reorders layer `li` against its neighbour layer; returns the crossings.
    fn order_layer(&mut self, li: usize, dirv: i32) -> usize {
        let mut c = self.count_crossings(li, dirv);
        if c > 0 {
            let has_prev = self.prev_layer(li, dirv).is_some();
            for i in 0..self.layers[li].len() {
                let v = self.layers[li][i];
                let n = self.neighbours(v, dirv);
                if has_prev && !n.is_empty() {
                    let sum = n.iter().fold(0.0, |acc, &x| acc + self.nodes[x].bar);
                    self.nodes[v].bar = sum / n.len() as f64;
                }
            }
            let mut layer = std::mem::take(&mut self.layers[li]);
            layer.sort_by(|&a, &b| self.nodes[a].bar.total_cmp(&self.nodes[b].bar));
            self.layers[li] = layer;
            c = self.reduce_crossings(li, dirv);
            let step = self.step[li];
            for (i, &v) in self.layers[li].iter().enumerate() {
                self.nodes[v].pos = i;
                self.nodes[v].bar = i as f64 * step;
            }
        }
        c
    }

    /// Crossings between layer `li` and its neighbour layer (Barth & Mutzel,
    /// by insertion: the number of inversions in the neighbour positions).
    fn count_crossings(&self, li: usize, dirv: i32) -> usize {
        let mut seen: Vec<usize> = Vec::new();
        let mut count = 0;
        for &v in &self.layers[li] {
            let mut ps: Vec<usize> = self
                .neighbours(v, dirv)
                .iter()
                .map(|&x| self.nodes[x].pos)
                .collect();
            ps.sort_unstable();
            for p in ps {
                let j = seen.partition_point(|&q| q <= p);
                count += seen.len() - j;
                seen.insert(j, p);
            }
        }
        count
    }

    /// One pass of adjacent swaps that reduce crossings; returns the
    /// crossings counted on the way.
    fn reduce_crossings(&mut self, li: usize, dirv: i32) -> usize {
        let mut total = 0;
        for i in 0..self.layers[li].len().saturating_sub(1) {
            let (vi, vj) = (self.layers[li][i], self.layers[li][i + 1]);
            let bars = |v: usize| -> Vec<f64> {
                self.neighbours(v, dirv)
                    .iter()
                    .map(|&x| self.nodes[x].bar)
                    .collect()
            };
            let (ni, nj) = (bars(vi), bars(vj));
            let (mut xij, mut xji) = (0, 0);
            for b in nj {
                let x = ni.iter().filter(|&&a| a > b).count();
                xij += x;
                xji += ni.len() - x;
            }
            if xji < xij {
                self.layers[li].swap(i, i + 1);
                total += xji;
            } else {
                total += xij;
            }
        }
        total
    }

    fn is_dummy(&self, v: usize) -> bool {
        self.nodes[v].dummy_of.is_some()
    }

    /// Marks alignments to avoid: segments crossing an inner segment (one
    /// between two dummies). As grandalf, only dummies close a range.
    fn detect_conflicts(&mut self) {
        for li in 1..self.layers.len() {
            let layer = &self.layers[li];
            let prev_len = self.layers[li - 1].len();
            if prev_len == 0 || layer.is_empty() {
                continue;
            }
            let last = layer.len() - 1;
            let (mut k0, mut start) = (0usize, 0usize);
            for (l1, &v) in layer.iter().enumerate() {
                if !self.is_dummy(v) {
                    continue;
                }
                let upper = self.nodes[v].up.last().copied();
                let inner = upper.is_some_and(|u| self.is_dummy(u));
                if l1 == last || inner {
                    let k1 = match upper {
                        Some(u) if inner => self.nodes[u].pos,
                        _ => prev_len - 1,
                    };
                    for &vl in &layer[start..=l1] {
                        for &vk in &self.nodes[vl].up {
                            let k = self.nodes[vk].pos;
                            if k < k0 || k > k1 {
                                self.conflicts.insert((vk, vl));
                            }
                        }
                    }
                    start = l1 + 1;
                    k0 = k1;
                }
            }
        }
    }

    /// Layer indices in the order an alignment pass visits them.
    fn sweep(&self, dirv: i32) -> Vec<usize> {
        let mut ls: Vec<usize> = (0..self.layers.len()).collect();
        if dirv > 0 {
            ls.reverse();
        }
        ls
    }

    /// A layer's vertices in `dirh` order.
    fn across(&self, li: usize, dirh: i32) -> Vec<usize> {
        let mut vs = self.layers[li].clone();
        if dirh < 0 {
            vs.reverse();
        }
        vs
    }

    /// Positions of the median neighbour(s) of `v` in the `dirv` layer.
    fn medians(&self, v: usize, dirv: i32, dirh: i32) -> Vec<usize> {
        let mut pos: Vec<usize> = self
            .neighbours(v, dirv)
            .iter()
            .map(|&x| self.nodes[x].pos)
            .collect();
        if pos.is_empty() {
            return pos;
        }
        pos.sort_unstable();
        if dirh < 0 {
            pos.reverse();
        }
        let (i, j) = ((pos.len() - 1) / 2, (pos.len() - 1) % 2);
        if j == 0 {
            vec![pos[i]]
        } else {
            vec![pos[i], pos[i + 1]]
        }
    }

    fn align_vertically(&mut self, dirh: i32, dirv: i32) {
        for li in self.sweep(dirv) {
            let Some(prev) = self.prev_layer(li, dirv) else {
                continue;
            };
            let mut r: Option<usize> = None;
            for vk in self.across(li, dirh) {
                for m in self.medians(vk, dirv, dirh) {
                    let um = self.layers[prev][m];
                    if self.nodes[vk].align != vk {
                        continue;
                    }
                    let pair = if dirv > 0 { (vk, um) } else { (um, vk) };
                    let further = match r {
                        None => true,
                        Some(r) if dirh > 0 => r < m,
                        Some(r) => r > m,
                    };
                    if !self.conflicts.contains(&pair) && further {
                        self.nodes[um].align = vk;
                        self.nodes[vk].root = self.nodes[um].root;
                        self.nodes[vk].align = self.nodes[vk].root;
                        r = Some(m);
                    }
                }
            }
        }
    }

    fn compact_horizontally(&mut self, dirh: i32, dirv: i32, pass: usize) {
        let sweep = self.sweep(dirv);
        for &li in &sweep {
            for v in self.across(li, dirh) {
                if self.nodes[v].root == v {
                    self.place_block(v, dirh);
                }
            }
        }
        if dirh < 0 {
            for node in &mut self.nodes {
                if let Some(x) = node.xb.filter(|&x| x != 0.0) {
                    node.xb = Some(-x);
                }
            }
        }
        for &li in &sweep {
            for v in self.across(li, dirh) {
                let root = self.nodes[v].root;
                let mut x = self.nodes[root].xb.unwrap_or(0.0);
                let shift = self.nodes[self.nodes[root].sink].shift;
                if shift < f64::INFINITY {
                    x += f64::from(dirh) * shift;
                }
                self.nodes[v].x[pass] = x;
            }
        }
        for (v, node) in self.nodes.iter_mut().enumerate() {
            node.root = v;
            node.align = v;
            node.sink = v;
            node.shift = f64::INFINITY;
            node.xb = None;
        }
    }

    fn place_block(&mut self, v: usize, dirh: i32) {
        if self.nodes[v].xb.is_some() {
            return;
        }
        self.nodes[v].xb = Some(0.0);
        let mut w = v;
        loop {
            let (pos, rank) = (self.nodes[w].pos, self.nodes[w].rank);
            let j = pos as i64 - i64::from(dirh);
            if j >= 0 && (j as usize) < self.layers[rank].len() {
                let wprec = self.layers[rank][j as usize];
                let delta =
                    self.input.xspace + (self.nodes[wprec].width + self.nodes[w].width) / 2.0;
                let u = self.nodes[wprec].root;
                self.place_block(u, dirh);
                if self.nodes[v].sink == v {
                    self.nodes[v].sink = self.nodes[u].sink;
                }
                let xu = self.nodes[u].xb.unwrap_or(0.0);
                let xv = self.nodes[v].xb.unwrap_or(0.0);
                if self.nodes[v].sink != self.nodes[u].sink {
                    let s = self.nodes[u].sink;
                    let shift = xv - (xu + delta);
                    self.nodes[s].shift = self.nodes[s].shift.min(shift);
                } else {
                    self.nodes[v].xb = Some(xv.max(xu + delta));
                }
            }
            w = self.nodes[w].align;
            if w == v {
                break;
            }
        }
    }

    /// Brandes & Köpf x coordinates and layer y coordinates.
    fn set_xy(&mut self) {
        self.detect_conflicts();
        for (pass, (dirh, dirv)) in [(1, -1), (-1, -1), (1, 1), (-1, 1)].into_iter().enumerate() {
            self.align_vertically(dirh, dirv);
            self.compact_horizontally(dirh, dirv, pass);
        }
        let mut y = 0.0;
        for li in 0..self.layers.len() {
            let dy = self.layers[li]
                .iter()
                .map(|&v| self.nodes[v].height / 2.0)
                .fold(f64::NEG_INFINITY, f64::max);
            for i in 0..self.layers[li].len() {
                let v = self.layers[li][i];
                let mut xs = self.nodes[v].x;
                xs.sort_by(f64::total_cmp);
                self.nodes[v].center = ((xs[1] + xs[2]) / 2.0, y + dy);
            }
            if dy.is_finite() {
                y += 2.0 * dy + self.input.yspace;
            }
        }
    }

    /// The polyline of edge `k`, clipped to the boxes at both ends.
    fn route(&self, k: usize) -> Vec<Point> {
        let (a, b) = self.input.edges[k];
        let mut pts = vec![self.nodes[a].center];
        if let Some(ctrl) = self.ctrl.get(&k) {
            let (r0, r1) = (self.nodes[a].rank, self.nodes[b].rank);
            pts.extend((r0 + 1..r1).map(|r| self.nodes[ctrl[&r]].center));
        }
        pts.push(self.nodes[b].center);
        let n = pts.len();
        let tail = self.clip(a, pts[1]);
        let head = self.clip(b, pts[n - 2]);
        pts[0] = tail.unwrap_or(pts[0]);
        pts[n - 1] = head.unwrap_or(pts[n - 1]);
        pts
    }

    /// Where the line from the centre of `v` towards `to` leaves its box
    /// (grandalf's `intersectR`: half-sizes rounded down, sides tried in the
    /// order top, right, bottom, left).
    fn clip(&self, v: usize, to: Point) -> Option<Point> {
        let node = &self.nodes[v];
        let (cx, cy) = node.center;
        let (x2, y2) = (to.0 - cx, to.1 - cy);
        let bx = (node.width as i64 / 2) as f64;
        let by = (node.height as i64 / 2) as f64;
        let sides = [
            ((-bx, -by), (bx, -by)),
            ((bx, -by), (bx, by)),
            ((-bx, by), (bx, by)),
            ((-bx, by), (-bx, -by)),
        ];
        sides.into_iter().find_map(|(p3, p4)| {
            let (x, y) = intersect((x2, y2), p3, p4)?;
            Some((x + cx, y + cy))
        })
    }
}

/// Intersection of the segment from the origin to `p2` with the segment
/// `p3`–`p4`, as grandalf's `intersect2lines` computes it.
fn intersect(p2: Point, p3: Point, p4: Point) -> Option<Point> {
    let b = p2;
    let d = (p4.0 - p3.0, p4.1 - p3.1);
    let det = b.0 * d.1 - b.1 * d.0;
    if det == 0.0 {
        return None;
    }
    let c = p3;
    let t = (c.0 * b.1 - c.1 * b.0) / det;
    if !(0.0..=1.0).contains(&t) {
        return None;
    }
    let t = (c.0 * d.1 - c.1 * d.0) / det;
    if !(0.0..=1.0).contains(&t) {
        return None;
    }
    Some((t * b.0, t * b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(widths: &[u32], edges: &[(usize, usize)]) -> Layout {
        layout(&Input {
            widths,
            height: 3,
            edges,
            xspace: 5.0,
            yspace: 3.0,
        })
    }

    #[test]
    fn vertex_order_appends_the_downstream_group() {
        // Edges (upstream, downstream): each upstream vertex takes in the
        // group holding the downstream one.
        assert_eq!(
            vertex_order(5, &[(1, 3), (0, 3), (4, 3), (2, 3)]),
            [2, 4, 0, 1, 3]
        );
        assert_eq!(vertex_order(3, &[(0, 1)]), [0, 1, 2]);
        assert_eq!(vertex_order(0, &[]), Vec::<usize>::new());
    }

    /// A fan-in: the roots end up in dependency order, because ranking
    /// moves each predecessor to the end of its layer in the order the
    /// downstream vertex lists them (DVC draws `zed alpha mid b` for
    /// `deps: [zed, alpha, mid, b]`).
    #[test]
    fn fan_in_keeps_dependency_order() {
        // 0 alpha, 1 zed, 2 b, 3 s1, 4 mid; s1 depends on zed, alpha, mid, b.
        let l = run(&[9, 7, 5, 6, 7], &[(1, 3), (0, 3), (4, 3), (2, 3)]);
        let mut xs: Vec<(f64, usize)> = [0, 1, 2, 4].map(|v| (l.centers[v].0, v)).to_vec();
        xs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(xs.iter().map(|x| x.1).collect::<Vec<_>>(), [1, 0, 4, 2]);
        assert!(l.centers.iter().take(3).all(|c| c.1 == 1.5));
        assert_eq!(l.centers[3].1, 7.5);
    }

    #[test]
    fn layers_are_height_plus_space_apart() {
        let l = run(&[5, 5, 5], &[(0, 1), (1, 2)]);
        let ys: Vec<f64> = l.centers.iter().map(|c| c.1).collect();
        assert_eq!(ys, [1.5, 7.5, 13.5]);
        // A chain is one straight column.
        assert!(l.centers.iter().all(|c| c.0 == l.centers[0].0));
        // Routes are clipped to the box borders (half height 1).
        assert_eq!(l.routes[0], [(0.0, 2.5), (0.0, 6.5)]);
    }

    /// A long edge gets a dummy point in each layer it crosses.
    #[test]
    fn long_edges_pass_through_dummies() {
        let l = run(&[5, 5, 5, 5], &[(0, 1), (1, 2), (0, 2), (2, 3), (0, 3)]);
        assert_eq!(l.routes[0].len(), 2);
        assert_eq!(l.routes[2].len(), 3);
        assert_eq!(l.routes[4].len(), 4);
        // The dummies sit beside the chain, not on it.
        assert_ne!(l.routes[2][1].0, l.centers[1].0);
        assert_eq!(l.routes[4][1].1, 7.5);
        assert_eq!(l.routes[4][2].1, 13.5);
    }

    #[test]
    fn siblings_are_at_least_xspace_apart() {
        let l = run(&[6, 4, 8, 4, 10], &[(0, 1), (0, 2), (0, 3), (0, 4)]);
        let mut row: Vec<(f64, u32)> = (1..5)
            .map(|v| (l.centers[v].0, [6, 4, 8, 4, 10][v]))
            .collect();
        row.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in row.windows(2) {
            let gap = (w[1].0 - w[1].1 as f64 / 2.0) - (w[0].0 + w[0].1 as f64 / 2.0);
            assert!(gap >= 5.0, "{row:?}");
        }
    }

    #[test]
    fn intersect_clips_segments() {
        assert_eq!(
            intersect((0.0, 4.0), (-2.0, 1.0), (2.0, 1.0)),
            Some((0.0, 1.0))
        );
        assert_eq!(intersect((0.0, 4.0), (-2.0, -1.0), (2.0, -1.0)), None);
        assert_eq!(
            intersect((4.0, 0.0), (2.0, -1.0), (2.0, 1.0)),
            Some((2.0, 0.0))
        );
        assert_eq!(intersect((1.0, 0.0), (2.0, -1.0), (2.0, 1.0)), None);
    }
}
