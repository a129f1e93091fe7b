//! Getting a manifest's source bytes: downloaded into a cache or imported from a
//! directory, verified (size + sha256) before they are unpacked, and unpacked members
//! verified again before anything decodes them.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use flate2::read::MultiGzDecoder;

use crate::download::{download, Expected};
use crate::manifest::{Archive, Manifest, Member, SourceFile};

/// Where the source files come from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Download into `cache`, from `mirrors` (base URLs) if any, else the manifest's URLs.
    Download {
        cache: PathBuf,
        mirrors: Vec<String>,
    },
    /// Import files already on disk: the published files or their unpacked members.
    Import { dir: PathBuf },
}

/// Verified member bytes, and the hashes that identify them.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Member name -> its bytes.
    pub members: BTreeMap<String, Vec<u8>>,
    /// File name -> sha256 of what was verified: a published file's pinned hash, or the
    /// computed hash of a member that has no pinned hash.
    pub inputs: BTreeMap<String, String>,
}

pub fn load(manifest: &Manifest, origin: &Origin) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    for file in &manifest.files {
        match origin {
            Origin::Download { cache, mirrors } => {
                let bytes = download_cached(file, cache, mirrors)?;
                unpack(file, &bytes, &mut loaded)?;
                loaded.inputs.insert(file.name.clone(), file.sha256.clone());
            }
            Origin::Import { dir } => import(file, dir, &mut loaded)
                .with_context(|| format!("cannot import from {}", dir.display()))?,
        }
    }
    Ok(loaded)
}

fn expected(file: &SourceFile) -> Expected<'_> {
    Expected {
        name: &file.name,
        size: file.size,
        sha256: Some(&file.sha256),
    }
}

fn expected_member(member: &Member) -> Expected<'_> {
    Expected {
        name: &member.name,
        size: member.size,
        sha256: member.sha256.as_deref(),
    }
}

/// The verified bytes of `file`, downloaded into `cache` unless a good copy is there.
fn download_cached(file: &SourceFile, cache: &Path, mirrors: &[String]) -> Result<Vec<u8>> {
    fs::create_dir_all(cache)
        .with_context(|| format!("cannot create cache {}", cache.display()))?;
    let dest = cache.join(&file.name);
    if dest.is_file() {
        let bytes = fs::read(&dest)?;
        if expected(file).check(&bytes).is_ok() {
            return Ok(bytes);
        }
        // A cached copy that no longer verifies is dropped and fetched again.
        fs::remove_file(&dest)?;
    }
    let urls: Vec<String> = if mirrors.is_empty() {
        file.urls.clone()
    } else {
        mirrors
            .iter()
            .map(|base| format!("{}/{}", base.trim_end_matches('/'), file.name))
            .collect()
    };
    download(&urls, &dest, &expected(file))?;
    let bytes = fs::read(&dest)?;
    expected(file).check(&bytes)?;
    Ok(bytes)
}

/// Imports `file` itself if `dir` has it, else each of its members.
fn import(file: &SourceFile, dir: &Path, loaded: &mut Loaded) -> Result<()> {
    let published = dir.join(&file.name);
    if published.is_file() {
        let bytes = fs::read(&published)?;
        expected(file).check(&bytes)?;
        unpack(file, &bytes, loaded)?;
        loaded.inputs.insert(file.name.clone(), file.sha256.clone());
        return Ok(());
    }
    for member in &file.members {
        let candidates = [dir.join(&member.name), dir.join(member.file_name())];
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            bail!("found neither {} nor {}", file.name, member.name);
        };
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let sha256 = expected_member(member).check(&bytes)?;
        if member.sha256.is_none() {
            eprintln!(
                "note: {} has no pinned sha256; it is keyed by its own hash {sha256}",
                member.name
            );
            loaded.inputs.insert(member.name.clone(), sha256);
        }
        loaded.members.insert(member.name.clone(), bytes);
    }
    // Members that all match pinned hashes stand for the published file they come from.
    if file.members_pinned() {
        loaded.inputs.insert(file.name.clone(), file.sha256.clone());
    }
    Ok(())
}

/// Unpacks the members of a verified `file` and verifies each of them.
fn unpack(file: &SourceFile, bytes: &[u8], loaded: &mut Loaded) -> Result<()> {
    match file.archive {
        Archive::Gzip => {
            let member = &file.members[0];
            let content = read_member(MultiGzDecoder::new(bytes), member)
                .with_context(|| format!("cannot decompress {}", file.name))?;
            loaded.members.insert(member.name.clone(), content);
        }
        Archive::TarGz => {
            let mut archive = tar::Archive::new(MultiGzDecoder::new(bytes));
            let entries = archive.entries();
            for entry in entries.with_context(|| format!("cannot read {}", file.name))? {
                let entry = entry.with_context(|| format!("cannot read {}", file.name))?;
                let path = entry.path()?.to_string_lossy().into_owned();
                let path = path.trim_start_matches("./");
                if let Some(member) = file.members.iter().find(|m| m.name == path) {
                    let content = read_member(entry, member)
                        .with_context(|| format!("cannot unpack {}", file.name))?;
                    loaded.members.insert(member.name.clone(), content);
                }
            }
            if let Some(missing) = file
                .members
                .iter()
                .find(|m| !loaded.members.contains_key(&m.name))
            {
                bail!("{} has no member {}", file.name, missing.name);
            }
        }
    }
    Ok(())
}

/// Reads one member (never more than one byte past its expected size) and verifies it.
fn read_member(reader: impl Read, member: &Member) -> Result<Vec<u8>> {
    let mut content = Vec::with_capacity(member.size as usize);
    reader
        .take(member.size + 1)
        .read_to_end(&mut content)
        .with_context(|| format!("cannot read {}", member.name))?;
    expected_member(member).check(&content)?;
    Ok(content)
}
