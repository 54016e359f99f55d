//! The ASCII drawing of one pipeline, cell for cell as `dvc dag` draws it:
//! boxes `+---+` / `| name |` at the layout's positions, edges as lines of
//! `*` drawn first so that boxes cover them.

use super::sugiyama::{self, Input, Point};

/// Height of a box: top border, text, bottom border.
const HEIGHT: u32 = 3;

/// A grid of characters, all spaces at first.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    cols: usize,
    cells: Vec<Vec<char>>,
}

impl Canvas {
    /// A blank canvas of `cols` × `lines`.
    pub fn new(cols: usize, lines: usize) -> Self {
        Canvas {
            cols,
            cells: vec![vec![' '; cols]; lines],
        }
    }

    /// Puts `c` at `(x, y)`; points off the canvas are dropped.
    pub fn point(&mut self, x: i64, y: i64, c: char) {
        if x < 0 || y < 0 || x as usize >= self.cols {
            return;
        }
        if let Some(row) = self.cells.get_mut(y as usize) {
            row[x as usize] = c;
        }
    }

    /// A straight line of `c` from `(x0, y0)` to `(x1, y1)`, one cell per
    /// step along the longer axis, the other coordinate rounded half to even.
    pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: char) {
        let (x0, y0, x1, y1) = if x0 > x1 {
            (x1, y1, x0, y0)
        } else {
            (x0, y0, x1, y1)
        };
        let (dx, dy) = (x1 - x0, y1 - y0);
        let step = |i: i64, num: i64, den: i64| round((i * num) as f64 / den as f64);
        if dx == 0 && dy == 0 {
            self.point(x0, y0, c);
        } else if dx.abs() >= dy.abs() {
            for x in x0..=x1 {
                self.point(x, y0 + step(x - x0, dy, dx), c);
            }
        } else if y0 < y1 {
            for y in y0..=y1 {
                self.point(x0 + step(y - y0, dx, dy), y, c);
            }
        } else {
            for y in y1..=y0 {
                self.point(x1 + step(y - y1, dx, dy), y, c);
            }
        }
    }

    /// `text` from `(x, y)` rightwards.
    pub fn text(&mut self, x: i64, y: i64, text: &str) {
        for (i, c) in text.chars().enumerate() {
            self.point(x + i as i64, y, c);
        }
    }

    /// A box with its top-left corner at `(x0, y0)`.
    pub fn boxed(&mut self, x0: i64, y0: i64, width: i64, height: i64) {
        let (w, h) = (width - 1, height - 1);
        for x in x0..x0 + w {
            self.point(x, y0, '-');
            self.point(x, y0 + h, '-');
        }
        for y in y0..y0 + h {
            self.point(x0, y, '|');
            self.point(x0 + w, y, '|');
        }
        for (x, y) in [(x0, y0), (x0 + w, y0), (x0, y0 + h), (x0 + w, y0 + h)] {
            self.point(x, y, '+');
        }
    }

    /// The lines, joined by newlines (no newline at the end); every line is
    /// as wide as the canvas.
    pub fn render(&self) -> String {
        let lines: Vec<String> = self.cells.iter().map(|r| r.iter().collect()).collect();
        lines.join("\n")
    }
}

/// Python's `round()`: to the nearest integer, halves to even.
pub fn round(x: f64) -> i64 {
    x.round_ties_even() as i64
}

/// Draws one connected pipeline: `labels` by node, `edges` as
/// `(upstream, downstream)` in DVC's graph order. Upstream nodes end up on
/// top.
pub fn draw(labels: &[String], edges: &[(usize, usize)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let texts: Vec<String> = labels.iter().map(|l| format!(" {l} ")).collect();
    let widths: Vec<u32> = texts
        .iter()
        .map(|t| u32::try_from(t.chars().count() + 2).unwrap_or(u32::MAX))
        .collect();
    let xspace = f64::from(widths.iter().copied().min().unwrap_or(0));
    let layout = sugiyama::layout(&Input {
        widths: &widths,
        height: HEIGHT,
        edges,
        xspace,
        yspace: f64::from(HEIGHT),
    });
    let h = f64::from(HEIGHT);
    // Box corners: the layout's centre moved left by half the width; the
    // layout's y is the box top.
    let corner = |v: usize| -> Point {
        let (x, y) = layout.centers[v];
        (x - f64::from(widths[v]) / 2.0, y)
    };
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for (v, &(x, y)) in layout.centers.iter().enumerate() {
        let half = f64::from(widths[v]) / 2.0;
        xs.extend([x - half, x + half]);
        ys.extend([y, y + h]);
    }
    for &(x, y) in layout.routes.iter().flatten() {
        xs.push(x);
        ys.push(y);
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (minx, miny, maxx, maxy) = (min(&xs), min(&ys), max(&xs), max(&ys));
    let cols = (maxx.ceil() - minx.floor()).ceil() as i64 + 1;
    let lines = round(maxy - miny);
    let mut canvas = Canvas::new(cols.max(0) as usize, lines.max(0) as usize);
    for route in &layout.routes {
        for pair in route.windows(2) {
            let (s, e) = (pair[0], pair[1]);
            canvas.line(
                round(s.0 - minx),
                round(s.1 - miny),
                round(e.0 - minx),
                round(e.1 - miny),
                '*',
            );
        }
    }
    for v in sugiyama::vertex_order(texts.len(), edges) {
        let text = &texts[v];
        let (x, y) = corner(v);
        let (bx, by) = (round(x - minx), round(y - miny));
        canvas.boxed(bx, by, i64::from(widths[v]), i64::from(HEIGHT));
        canvas.text(bx + 1, by + 1, text);
    }
    canvas.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn round_is_half_to_even() {
        assert_eq!(
            [0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(round),
            [0, 2, 2, 0, -2, 2, 3]
        );
    }

    /// Lines as DVC's canvas draws them (one cell per step on the longer
    /// axis, halves rounded to even; later lines overwrite).
    #[test]
    fn lines_like_dvc() {
        let mut c = Canvas::new(9, 5);
        c.line(0, 0, 8, 3, '*');
        c.line(8, 0, 0, 4, '#');
        c.line(4, 4, 5, 0, '@');
        assert_eq!(
            c.render(),
            "**   @ ##\n  ** @#  \n   ##@*  \n  # @  **\n##  @    "
        );
    }

    #[test]
    fn boxes_and_text() {
        let mut c = Canvas::new(8, 3);
        c.boxed(1, 0, 6, 3);
        c.text(2, 1, " ab ");
        c.point(-1, 0, 'x');
        c.point(0, 9, 'x');
        assert_eq!(c.render(), " +----+ \n | ab | \n +----+ ");
    }

    /// The example in DVC's `dvc/dagascii.py` docstring (vertices 1–4,
    /// DVC edges `(stage, dependency)` reversed to `(upstream, downstream)`),
    /// with the trailing spaces DVC's canvas has.
    #[test]
    fn docstring_example() {
        let got = draw(
            &names(&["1", "2", "3", "4"]),
            &[(1, 0), (2, 1), (3, 1), (3, 0)],
        );
        let want = [
            "+---+     +---+  ",
            "| 3 |     | 4 |  ",
            "+---+    *+---+  ",
            "  *    **   *    ",
            "  *  **     *    ",
            "  * *       *    ",
            "+---+       *    ",
            "| 2 |      *     ",
            "+---+     *      ",
            "     *    *      ",
            "      *  *       ",
            "       **        ",
            "     +---+       ",
            "     | 1 |       ",
            "     +---+       ",
        ];
        assert_eq!(got, want.join("\n"));
    }

    #[test]
    fn single_node() {
        assert_eq!(
            draw(&names(&["alone"]), &[]),
            "+-------+  \n| alone |  \n+-------+  "
        );
        assert_eq!(draw(&[], &[]), "");
    }
}
