//! Lists inside messages (unsaved files, failed transfers): the first few
//! items one per line, then how many more there are.

/// `items` as lines, each starting with a newline and `indent`: at most
/// `max` of them, then "… and N more" for the rest.
pub fn bounded_lines<I, S>(items: I, max: usize, indent: &str) -> String
where
    I: ExactSizeIterator<Item = S>,
    S: AsRef<str>,
{
    let total = items.len();
    let mut out = String::new();
    for item in items.take(max) {
        out.push('\n');
        out.push_str(indent);
        out.push_str(item.as_ref());
    }
    if total > max {
        out.push_str(&format!("\n{indent}… and {} more", total - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rest_is_counted_after_max_lines() {
        assert_eq!(bounded_lines(["a", "b"].iter(), 2, "\t"), "\n\ta\n\tb");
        assert_eq!(
            bounded_lines(["a", "b", "c", "d"].iter(), 2, ""),
            "\na\nb\n… and 2 more"
        );
        assert_eq!(bounded_lines(std::iter::empty::<&str>(), 2, ""), "");
    }
}
