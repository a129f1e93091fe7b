//! Checksum-verified HTTP(S) download with resume, and the size + sha256 check that every
//! source byte passes before anything decodes it.
//!
//! A download grows `<dest>.part`; an interrupted transfer keeps it, and the next attempt
//! (this run or a later one) asks for the rest with an HTTP `Range` header. Only a `.part`
//! whose size and sha256 match is renamed to `<dest>`; a complete but wrong one is deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// What a file must be: the manifest's word for it.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub name: &'a str,
    pub size: u64,
    /// `None` where no hash is pinned: then only the size is checked.
    pub sha256: Option<&'a str>,
}

impl Expected<'_> {
    /// Checks bytes against the expectation and returns their sha256.
    pub fn check(&self, bytes: &[u8]) -> Result<String> {
        let got = hex::encode(Sha256::digest(bytes));
        self.compare(bytes.len() as u64, &got)?;
        Ok(got)
    }

    fn check_file(&self, path: &Path) -> Result<String> {
        let (size, got) = sha256_file(path)?;
        self.compare(size, &got)?;
        Ok(got)
    }

    fn compare(&self, size: u64, got: &str) -> Result<()> {
        let hash_ok = self.sha256.is_none_or(|want| want == got);
        if size != self.size || !hash_ok {
            bail!(
                "{} failed verification: expected sha256 {} ({} bytes), got sha256 {got} ({size} bytes)",
                self.name,
                self.sha256.unwrap_or("(not pinned)"),
                self.size
            );
        }
        Ok(())
    }
}

/// Size and hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Transfers per URL: an interrupted transfer that made progress is resumed this many
/// times before the next URL is tried.
const ATTEMPTS_PER_URL: usize = 3;

/// Downloads `expected` to `dest`, trying `urls` in order, resuming from `<dest>.part`.
/// On success `dest` holds exactly the expected bytes.
pub fn download(urls: &[String], dest: &Path, expected: &Expected<'_>) -> Result<()> {
    ensure!(
        !urls.is_empty(),
        "no URL to download {} from",
        expected.name
    );
    let part = part_path(dest);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut failures = Vec::new();
    for url in urls {
        for _ in 0..ATTEMPTS_PER_URL {
            let before = part_len(&part);
            match fetch_into(&agent, url, &part, expected)
                .and_then(|()| finish(&part, dest, expected))
            {
                Ok(()) => return Ok(()),
                Err(err) => {
                    let resumable = part_len(&part) > before;
                    failures.push(format!("{url}: {err:#}"));
                    if !resumable {
                        break;
                    }
                }
            }
        }
    }
    bail!("cannot download {}: {}", expected.name, failures.join("; "))
}

/// The path a download grows before it is verified.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

fn part_len(part: &Path) -> u64 {
    fs::metadata(part).map_or(0, |m| m.len())
}

/// Appends the missing tail of the file to `part` (or restarts it when the server
/// ignores the range).
fn fetch_into(agent: &ureq::Agent, url: &str, part: &Path, expected: &Expected<'_>) -> Result<()> {
    let mut have = part_len(part);
    if have > expected.size {
        fs::remove_file(part)?;
        have = 0;
    }
    if have == expected.size {
        return Ok(());
    }
    let mut request = agent.get(url).header("Accept-Encoding", "identity");
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = request.call()?;
    let resumed = response.status() == 206;
    if resumed {
        let range = response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        ensure!(
            range.starts_with(&format!("bytes {have}-")),
            "asked for bytes {have}- and got Content-Range {range:?}"
        );
    } else {
        have = 0;
    }
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(part)
        .with_context(|| format!("cannot write {}", part.display()))?;
    let progress = progress_bar(expected, have);
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // A cut connection surfaces here; what was written so far stays for a resume.
        let n = body.read(&mut buf).context("transfer interrupted")?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        progress.inc(n as u64);
    }
    out.sync_all()?;
    progress.finish_and_clear();
    Ok(())
}

/// Verifies a complete `.part` and renames it into place; a wrong one is deleted.
fn finish(part: &Path, dest: &Path, expected: &Expected<'_>) -> Result<()> {
    if let Err(err) = expected.check_file(part) {
        fs::remove_file(part)?;
        return Err(err);
    }
    fs::rename(part, dest)
        .with_context(|| format!("cannot rename {} to {}", part.display(), dest.display()))
}

/// A byte progress bar on stderr; indicatif hides it when stderr is not a terminal.
fn progress_bar(expected: &Expected<'_>, start: u64) -> ProgressBar {
    let bar = ProgressBar::new(expected.size).with_position(start);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .expect("valid template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(expected.name.to_owned());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_file_and_both_hashes() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let want = "0".repeat(64);
        let expected = Expected {
            name: "x.gz",
            size: 3,
            sha256: Some(&want),
        };
        let err = expected.check(b"abc").unwrap_err().to_string();
        assert_eq!(
            err,
            format!("x.gz failed verification: expected sha256 {want} (3 bytes), got sha256 {abc} (3 bytes)")
        );
        let size_only = Expected {
            sha256: None,
            ..expected
        };
        assert_eq!(size_only.check(b"abc").unwrap(), abc);
        assert!(size_only.check(b"ab").is_err());
    }
}
