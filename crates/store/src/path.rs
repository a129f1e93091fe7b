//! Safe relative paths: every path the store (or a caller) reads from a file such as
//! `outputs.json` or a MANIFEST must stay inside the directory it is joined to.
//!
//! A path read from a file is data, not code, and files are edited by hand, corrupted,
//! or carried in by a pull request. Joining `../victim` or `/etc/passwd` to a directory
//! and then removing, copying or hashing the result touches files the caller never meant
//! to touch, and so does a path whose parent directory is a symlink to elsewhere. Check
//! with [`safe_relative`] when parsing and with [`ensure_no_symlink`] (or both at once
//! with [`resolve`]) right before touching the file.

use anyhow::{bail, Context, Result};
use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// `rel` as a path, if it is relative and made only of normal components.
///
/// Refused: the empty path, absolute paths, `.` and `..` components, empty components
/// (`a//b`, a trailing `/`), backslashes (a Windows separator that could smuggle `..\`)
/// and NUL. Accepting only the plain form keeps one spelling per file, so a path cannot
/// dodge a check by writing `a/./b` for `a/b`.
pub fn safe_relative(rel: &str) -> Result<PathBuf> {
    if rel.is_empty() {
        bail!("empty path");
    }
    if rel.contains(['\\', '\0']) {
        bail!("path {rel:?} contains a backslash or NUL");
    }
    if rel.starts_with('/') {
        bail!("path {rel:?} is absolute");
    }
    for part in rel.split('/') {
        if matches!(part, "" | "." | "..") {
            bail!("path {rel:?} has a {part:?} component; only plain names are allowed");
        }
    }
    let path = PathBuf::from(rel);
    // Belt and braces: std's own parse must agree that every component is a plain name.
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("path {rel:?} is not a plain relative path");
    }
    Ok(path)
}

/// Fails if any existing prefix of `base/rel` below `base` is a symlink.
///
/// `base` itself is the caller's trusted directory and may be reached through symlinks.
/// A prefix that does not exist ends the walk: nothing below it can be a symlink yet.
/// `rel` must already be a [`safe_relative`] path.
pub fn ensure_no_symlink(base: &Path, rel: &Path) -> Result<()> {
    let mut path = base.to_path_buf();
    for component in rel.components() {
        let Component::Normal(name) = component else {
            bail!("{} is not a plain relative path", rel.display());
        };
        path.push(name);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                bail!("{} is a symlink; refusing to follow it", path.display())
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("inspecting {}", path.display())),
        }
    }
    Ok(())
}

/// `base/rel` after checking that `rel` is [`safe_relative`] and that no part of it below
/// `base` is a symlink: the one call to make before removing, copying or hashing a path
/// read from a file.
pub fn resolve(base: &Path, rel: &str) -> Result<PathBuf> {
    let path =
        safe_relative(rel).with_context(|| format!("unsafe path under {}", base.display()))?;
    ensure_no_symlink(base, &path)?;
    Ok(base.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_pass() {
        for ok in [
            "a",
            "a.bin",
            "sub/b.txt",
            "x/y/z.png",
            ".hidden",
            "..x",
            "x..",
        ] {
            assert_eq!(safe_relative(ok).unwrap(), PathBuf::from(ok), "{ok}");
        }
    }

    #[test]
    fn tricks_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/../b",
            "a/..",
            "/etc/passwd",
            "//x",
            "./a",
            "a/./b",
            "a//b",
            "a/",
            "a\\..\\b",
            "a\0b",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
