//! Recursive directory listing and permission changes used by put, verify and gc.

use anyhow::{bail, Context, Result};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What a tree holds: regular files, and everything else (symlinks, fifos, sockets,
/// devices, names that are not UTF-8), both as `/`-separated relative paths, sorted.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub files: Vec<String>,
    pub others: Vec<String>,
}

/// Regular files under `root` as `/`-separated relative paths, sorted. Symlinks and other
/// special files are refused: an entry must be plain bytes that hash the same everywhere.
pub(crate) fn files(root: &Path) -> Result<Vec<String>> {
    let listing = list(root)?;
    if let Some(other) = listing.others.first() {
        bail!(
            "{} is not a regular file or directory (or its name is not UTF-8)",
            root.join(other).display()
        );
    }
    Ok(listing.files)
}

/// Lists a tree without following symlinks, so a check can report what it finds instead
/// of failing at the first odd file.
pub(crate) fn list(root: &Path) -> Result<Listing> {
    let mut listing = Listing::default();
    collect(root, "", &mut listing)?;
    listing.files.sort();
    listing.others.sort();
    Ok(listing)
}

fn collect(dir: &Path, prefix: &str, out: &mut Listing) -> Result<()> {
    for item in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let item = item.with_context(|| format!("listing {}", dir.display()))?;
        let name = item.file_name();
        let Some(name) = name.to_str() else {
            out.others
                .push(format!("{prefix}{}", name.to_string_lossy()));
            continue;
        };
        let rel = format!("{prefix}{name}");
        let kind = item.file_type()?;
        if kind.is_dir() {
            collect(&item.path(), &format!("{rel}/"), out)?;
        } else if kind.is_file() {
            out.files.push(rel);
        } else {
            out.others.push(rel);
        }
    }
    Ok(())
}

/// All directories under `root` (including it), deepest first.
pub(crate) fn dirs_bottom_up(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let dir = out[i].clone();
        for item in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let item = item?;
            if item.file_type()?.is_dir() {
                out.push(item.path());
            }
        }
        i += 1;
    }
    out.reverse();
    Ok(out)
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {mode:o} {}", path.display()))
}

/// Makes every directory under `root` writable again so the tree can be moved or removed.
pub(crate) fn make_dirs_writable(root: &Path) -> Result<()> {
    // Top-down: a read-only parent must be opened up before its children can be listed.
    set_mode(root, 0o755)?;
    for item in fs::read_dir(root).with_context(|| format!("listing {}", root.display()))? {
        let item = item?;
        if item.file_type()?.is_dir() {
            make_dirs_writable(&item.path())?;
        }
    }
    Ok(())
}

/// Total size in bytes of the regular files under `root` (0 if it is gone).
pub(crate) fn size(root: &Path) -> u64 {
    let Ok(items) = fs::read_dir(root) else {
        return 0;
    };
    items
        .flatten()
        .map(|item| match item.file_type() {
            Ok(t) if t.is_dir() => size(&item.path()),
            Ok(t) if t.is_file() => item.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Removes a tree, opening up read-only directories first.
pub(crate) fn remove_tree(root: &Path) -> Result<()> {
    make_dirs_writable(root)?;
    fs::remove_dir_all(root).with_context(|| format!("removing {}", root.display()))
}
