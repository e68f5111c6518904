//! git, run as a process with its arguments (never through a shell): the repository
//! holding a directory, a ref resolved to a commit, where two histories meet, and a
//! directory's files at another commit, read without checking it out (`ls-tree`, one
//! `cat-file --batch` for every file). A clone that lacks the ref or the history says what
//! to fetch.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// A git work tree.
#[derive(Debug, Clone)]
pub struct Repository {
    /// The top of the work tree.
    root: PathBuf,
}

/// What a git command printed, or why it failed.
struct GitOutput {
    success: bool,
    stdout: Vec<u8>,
    stderr: String,
}

impl Repository {
    /// The repository whose work tree holds `path`.
    pub fn containing(path: &Path) -> Result<Repository> {
        let out = git(path, &["rev-parse", "--show-toplevel"])?;
        if !out.success {
            return Err(Error::Usage(format!(
                "{} is not in a git repository ({}); `--against` reads the other side through git",
                path.display(),
                out.stderr.trim()
            )));
        }
        let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Ok(Repository {
            root: std::fs::canonicalize(&root).unwrap_or(root),
        })
    }

    /// `path` relative to the top of the work tree, with `/` between names (as git writes
    /// paths).
    pub fn relative(&self, path: &Path) -> Result<String> {
        let real = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
        let relative = real.strip_prefix(&self.root).map_err(|_| {
            Error::Usage(format!(
                "{} is outside the git work tree {}",
                path.display(),
                self.root.display()
            ))
        })?;
        Ok(relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    }

    /// The commit `reference` names (a branch, `origin/main`, a tag, a commit id); a ref
    /// this clone does not have is an error saying what to fetch.
    pub fn commit(&self, reference: &str) -> Result<String> {
        if reference.starts_with('-') {
            return Err(Error::Usage(format!(
                "`{reference}` is not a git ref (it starts with `-`)"
            )));
        }
        let spec = format!("{reference}^{{commit}}");
        let out = self.run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ])?;
        if out.success {
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
        let shallow = if self.is_shallow()? {
            " (this clone is shallow: a CI checkout fetches only the commit under test)"
        } else {
            ""
        };
        Err(Error::Usage(format!(
            "`{reference}` names no commit in this clone{shallow}; fetch it first: `{}`",
            fetch_advice(reference, &self.remotes()?)
        )))
    }

    /// Where the work tree's commit (`HEAD`) and `other` diverged: `None` when the
    /// histories share nothing. A shallow clone that lacks the history to tell is an error
    /// saying to fetch more of it.
    pub fn merge_base(&self, other: &str, reference: &str) -> Result<Option<String>> {
        let out = self.run(&["merge-base", "HEAD", other])?;
        if out.success {
            return Ok(Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()));
        }
        if self.is_shallow()? {
            return Err(Error::Project(format!(
                "this clone is shallow and lacks the history where HEAD and `{reference}` diverged; fetch it: `git fetch --deepen=100 {}` (or `git fetch --unshallow`; in CI, check out with the full history, e.g. `fetch-depth: 0`)",
                remote_of(reference, &self.remotes()?).unwrap_or("origin")
            )));
        }
        if out.stderr.trim().is_empty() {
            // No common ancestor: unrelated histories.
            return Ok(None);
        }
        Err(Error::Project(format!(
            "git merge-base HEAD {reference} failed: {}",
            out.stderr.trim()
        )))
    }

    /// The files under `dir` (relative to the top, `/`-separated) at `commit`, relative to
    /// `dir`.
    pub fn files_under(&self, commit: &str, dir: &str) -> Result<Vec<String>> {
        let out = self.run(&["ls-tree", "-r", "-z", "--name-only", commit, "--", dir])?;
        if !out.success {
            return Err(Error::Project(format!(
                "git ls-tree {commit} -- {dir} failed: {}",
                out.stderr.trim()
            )));
        }
        let prefix = format!("{dir}/");
        Ok(out
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .filter_map(|name| name.strip_prefix(&prefix).map(str::to_owned))
            .collect())
    }

    /// The contents of `paths` (relative to the top) at `commit`, in one `git cat-file
    /// --batch`; a path the commit does not have is an error.
    pub fn read_files(&self, commit: &str, paths: &[String]) -> Result<Vec<Vec<u8>>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(bad) = paths.iter().find(|p| p.contains('\n')) {
            return Err(Error::Project(format!(
                "{bad:?}: a file name with a line break cannot be read through git cat-file"
            )));
        }
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let mut stdin = child.stdin.take().ok_or_else(|| pipe_error("stdin"))?;
        let requests: String = paths.iter().map(|p| format!("{commit}:{p}\n")).collect();
        // Written from another thread: git answers while it reads, and a full pipe either
        // way would otherwise stall both processes.
        let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
        let stdout = child.stdout.take().ok_or_else(|| pipe_error("stdout"))?;
        let contents = read_batch(BufReader::new(stdout), commit, paths);
        let written = writer.join();
        let status = child.wait().map_err(spawn_error)?;
        let contents = contents?;
        match written {
            Ok(Ok(())) if status.success() => Ok(contents),
            _ => Err(Error::Project(format!(
                "git cat-file --batch failed reading {commit}'s files ({status})"
            ))),
        }
    }

    fn is_shallow(&self) -> Result<bool> {
        let out = self.run(&["rev-parse", "--is-shallow-repository"])?;
        Ok(out.success && String::from_utf8_lossy(&out.stdout).trim() == "true")
    }

    fn remotes(&self) -> Result<Vec<String>> {
        let out = self.run(&["remote"])?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect())
    }

    fn run(&self, args: &[&str]) -> Result<GitOutput> {
        git(&self.root, args)
    }
}

/// Reads `git cat-file --batch` answers: `<oid> <type> <size>`, the bytes, a newline; or
/// `<request> missing`.
fn read_batch(mut reader: impl BufRead, commit: &str, paths: &[String]) -> Result<Vec<Vec<u8>>> {
    let mut contents = Vec::with_capacity(paths.len());
    for path in paths {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| Error::io(format!("git cat-file {commit}:{path}"), e))?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        let size = match fields.as_slice() {
            [_, "blob", size] => size.parse::<usize>().ok(),
            _ => None,
        };
        let Some(size) = size else {
            return Err(Error::Project(format!(
                "{commit}:{path}: git cannot read it ({})",
                header.trim()
            )));
        };
        let mut bytes = vec![0; size + 1];
        reader
            .read_exact(&mut bytes)
            .map_err(|e| Error::io(format!("git cat-file {commit}:{path}"), e))?;
        bytes.truncate(size);
        contents.push(bytes);
    }
    Ok(contents)
}

/// Runs `git -C dir ARGS`.
fn git(dir: &Path, args: &[&str]) -> Result<GitOutput> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(spawn_error)?;
    Ok(GitOutput {
        success: out.status.success(),
        stdout: out.stdout,
        stderr: crate::error::one_line(String::from_utf8_lossy(&out.stderr)),
    })
}

fn spawn_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Usage(
            "git is not installed (or not on PATH); `--against` reads the other side through git"
                .into(),
        )
    } else {
        Error::io("git", e)
    }
}

fn pipe_error(which: &str) -> Error {
    Error::io("git", std::io::Error::other(format!("no {which} pipe")))
}

/// The remote a ref like `origin/main` belongs to.
fn remote_of<'a>(reference: &'a str, remotes: &[String]) -> Option<&'a str> {
    let (remote, _) = reference.split_once('/')?;
    remotes.iter().any(|r| r == remote).then_some(remote)
}

/// `git fetch origin main` for `origin/main` (a ref naming a remote, or looking like one);
/// `git fetch origin REF` otherwise.
fn fetch_advice(reference: &str, remotes: &[String]) -> String {
    match reference.split_once('/') {
        Some((remote, branch)) if !remote.is_empty() && !branch.is_empty() => {
            format!("git fetch {remote} {branch}")
        }
        _ => {
            let remote = remotes.first().map_or("origin", String::as_str);
            format!("git fetch {remote} {reference}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_advice_names_the_remote_and_branch() {
        let remotes = vec!["origin".to_owned(), "upstream".to_owned()];
        assert_eq!(
            fetch_advice("origin/main", &remotes),
            "git fetch origin main"
        );
        assert_eq!(
            fetch_advice("upstream/release/2", &remotes),
            "git fetch upstream release/2"
        );
        assert_eq!(fetch_advice("main", &remotes), "git fetch origin main");
        assert_eq!(fetch_advice("main", &[]), "git fetch origin main");
        assert_eq!(fetch_advice("origin/main", &[]), "git fetch origin main");
    }

    #[test]
    fn batch_answers_are_read_in_order() {
        let answers = b"1111 blob 3\nabc\n2222 blob 0\n\n".as_slice();
        let paths = vec!["a".to_owned(), "b".to_owned()];
        let read = read_batch(answers, "HEAD", &paths).unwrap();
        assert_eq!(read, vec![b"abc".to_vec(), Vec::new()]);
        let missing = b"HEAD:c missing\n".as_slice();
        let err = read_batch(missing, "HEAD", &["c".to_owned()]).unwrap_err();
        assert!(
            err.to_string().contains("HEAD:c: git cannot read it"),
            "{err}"
        );
    }
}
