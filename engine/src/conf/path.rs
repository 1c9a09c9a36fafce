//! Slash-separated path arithmetic as the reference does it (`Dir`, `Join`, `Clean`), so that
//! include paths and the file names in messages are spelled the same.

/// Lexical cleanup: removes `.`, `//` and `name/..` (the reference's `Clean`).
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// The directory part of `path`, cleaned (`.` when there is none).
pub fn dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => clean(&path[..=i]),
        None => ".".to_string(),
    }
}

/// `dir` and `name` joined and cleaned (an absolute `name` is still joined, as the reference does).
pub fn join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(name),
        (false, true) => clean(dir),
        (false, false) => clean(&format!("{dir}/{name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_the_reference() {
        assert_eq!(clean("a/./b/../c//d/"), "a/c/d");
        assert_eq!(clean("../x"), "../x");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(dir("x.conf"), ".");
        assert_eq!(dir("/etc/nats/x.conf"), "/etc/nats");
        assert_eq!(join(".", "inc.conf"), "inc.conf");
        assert_eq!(join("conf", "../inc.conf"), "inc.conf");
        assert_eq!(join("/etc", "/abs.conf"), "/etc/abs.conf");
    }
}
