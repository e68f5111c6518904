//! Revision files on disk: reading the versions directory exactly as diesel does, parsing
//! the header comment at the top of each `up.sql`, and writing new revisions from the
//! revision template. Touches no database.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{Error, IoContext, Result};
use crate::graph_error::GraphError;

/// The revision template's file name inside `script_location`.
pub const REVISION_TEMPLATE_FILE: &str = "revision.sql.tmpl";
/// The built-in revision template (used when the environment has none).
pub const REVISION_TEMPLATE: &str = include_str!("../templates/revision.sql.tmpl");

/// Where the SQL of a new revision goes when there is nothing generated.
pub const EMPTY_UP: &str = "-- Your SQL goes here";
/// The placeholder for the down file of a new hand-written revision.
pub const EMPTY_DOWN: &str = "-- This file should undo anything in `up.sql`";

/// One revision: a directory holding `up.sql` and (usually) `down.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The revision id: diesel's version, taken from the directory name (the part before
    /// the first `_`, without dashes). This is what the version table records.
    pub id: String,
    /// The directory.
    pub dir: PathBuf,
    /// The first line of the header (the message), or the directory name without the id.
    pub message: String,
    /// The revisions this one revises (empty for a root). Directories without a header
    /// revise the one before them in version order.
    pub parents: Vec<String>,
    /// Branch labels from `Branch Labels:`.
    pub branch_labels: Vec<String>,
    /// Extra dependencies from `Depends On:` (applied first, not parents).
    pub depends_on: Vec<String>,
    /// `Create Date:` as written.
    pub create_date: Option<String>,
    /// Whether `up.sql` starts with a dbrev header.
    pub has_header: bool,
    /// diesel's `metadata.toml` `run_in_transaction` (true when absent).
    pub run_in_transaction: bool,
}

impl Revision {
    /// The `up.sql` file.
    pub fn up_path(&self) -> PathBuf {
        self.dir.join("up.sql")
    }

    /// The `down.sql` file.
    pub fn down_path(&self) -> PathBuf {
        self.dir.join("down.sql")
    }
}

/// diesel's version of a migration directory name: the part before the first `_`, with
/// dashes removed (`2023-01-02-030405_x` → `20230102030405`).
pub fn version_of(dir_name: &str) -> String {
    dir_name
        .split('_')
        .next()
        .unwrap_or(dir_name)
        .replace('-', "")
}

/// Reads a SQL file as UTF-8; text that is not names the file and the line.
pub fn read_sql_file(path: &Path) -> Result<String> {
    sql_text(path, read_bytes(path).at(path)?)
}

/// A file's bytes. `std::fs::read` first asks the file's size (one more system call per
/// file); revision files are small, so the buffer starts at what most need and grows.
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    /// The file as a plain reader: `File`'s own `read_to_end` asks its size.
    struct Unsized(std::fs::File);
    impl Read for Unsized {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    let mut bytes = Vec::with_capacity(2048);
    Unsized(std::fs::File::open(path)?).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A file's bytes as UTF-8; text that is not names the file and the line.
fn sql_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        Error::Script(format!(
            "{}:{line}:{column}: not valid UTF-8; save the file as UTF-8",
            path.display()
        ))
    })
}

/// The checksum dbrev records for an applied `up.sql`: SHA-256 (hex) of its text with
/// CRLF line endings read as LF, so a checkout with other line endings is not an edit.
pub fn checksum(text: &str) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut rest = text;
    while let Some(i) = rest.find("\r\n") {
        hasher.update(&rest.as_bytes()[..i]);
        hasher.update(b"\n");
        rest = &rest[i + 2..];
    }
    hasher.update(rest.as_bytes());
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for b in hasher.finalize() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hex
}

/// Reads every revision directory in `versions_dir`, in diesel's order (by version, as
/// text). Like diesel, files and dot-entries are ignored; an empty directory is skipped;
/// a non-empty directory without `up.sql` is an error naming it.
pub fn read_revisions(versions_dir: &Path) -> Result<Vec<Revision>> {
    load_revisions(versions_dir).map(|(revisions, _)| revisions)
}

/// [`read_revisions`], keeping the text of every `up.sql` it read (for the header) so that
/// nothing reads it again: the checksums, lint and the run take it from there.
pub(crate) fn load_revisions(versions_dir: &Path) -> Result<(Vec<Revision>, RevisionTexts)> {
    let entries = match std::fs::read_dir(versions_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Script(format!(
                "the versions directory {} does not exist; run `cargo dbinit` or fix `version_locations` in dbrev.toml",
                versions_dir.display()
            )));
        }
        Err(e) => return Err(Error::io(versions_dir, e)),
    };
    let texts = RevisionTexts::default();
    let mut revisions = Vec::new();
    for entry in entries {
        let entry = entry.at(versions_dir)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !is_directory(&entry) {
            continue;
        }
        let path = entry.path();
        let up_path = path.join("up.sql");
        let up = match read_bytes(&up_path) {
            Ok(bytes) => sql_text(&up_path, bytes)?,
            Err(e) if is_missing(&e) => {
                if std::fs::read_dir(&path).at(&path)?.next().is_none() {
                    continue;
                }
                return Err(Error::Script(format!(
                    "{}: not a revision: the directory has no up.sql (diesel would refuse it too)",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::io(up_path, e)),
        };
        revisions.push(read_revision(&path, &name, &up)?);
        texts.keep(up_path, up);
    }
    Ok((in_version_order(revisions)?, texts))
}

/// Whether a directory entry is a directory (a symbolic link is followed); the entry's type
/// comes with the listing, so this asks the file system nothing more for most entries.
fn is_directory(entry: &std::fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(kind) if kind.is_symlink() => entry.path().is_dir(),
        Ok(kind) => kind.is_dir(),
        Err(_) => entry.path().is_dir(),
    }
}

/// Whether reading a file failed because there is no such file (nothing, or a directory).
fn is_missing(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
    )
}

/// The text of the revision files read so far, so that one run reads each file once: the
/// graph keeps every `up.sql` it read for its header, and a `down.sql` is kept when first
/// read. A run thus checksums, lints and runs one and the same text. It holds nothing but
/// revision files; the clones of a graph share it.
#[derive(Debug, Clone, Default)]
pub struct RevisionTexts {
    /// By path, as bytes (hashed whole, not component by component).
    files: Arc<Mutex<HashMap<OsString, Arc<str>>>>,
}

impl RevisionTexts {
    /// The text of a revision file (`up.sql`, `down.sql`), read on first use.
    pub fn read(&self, path: &Path) -> Result<Arc<str>> {
        if let Some(text) = self.kept(path) {
            return Ok(text);
        }
        let text = read_sql_file(path)?;
        Ok(self.keep(path.to_path_buf(), text))
    }

    /// [`Self::read`], `None` when the file does not exist.
    pub fn read_if_exists(&self, path: &Path) -> Result<Option<Arc<str>>> {
        if let Some(text) = self.kept(path) {
            return Ok(Some(text));
        }
        match read_bytes(path) {
            Ok(bytes) => Ok(Some(self.keep(path.to_path_buf(), sql_text(path, bytes)?))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<OsString, Arc<str>>> {
        // Nothing panics while holding it; if something did, the map is still whole.
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn kept(&self, path: &Path) -> Option<Arc<str>> {
        self.files().get(path.as_os_str()).cloned()
    }

    fn keep(&self, path: PathBuf, text: String) -> Arc<str> {
        let text: Arc<str> = text.into();
        self.files().insert(path.into_os_string(), text.clone());
        text
    }
}

/// Puts revisions read from anywhere (the working tree, another git revision) in diesel's
/// order, refuses two with one id (naming both directories: neither is ever skipped), and
/// makes each revision without a header revise the one before it.
pub fn in_version_order(mut revisions: Vec<Revision>) -> Result<Vec<Revision>> {
    revisions.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.dir.cmp(&b.dir)));
    if let Some(pair) = revisions.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(GraphError::DuplicateId {
            id: pair[0].id.clone(),
            first: pair[0].dir.clone(),
            second: pair[1].dir.clone(),
        }
        .into());
    }
    let mut previous: Option<String> = None;
    for revision in &mut revisions {
        if !revision.has_header {
            revision.parents = previous.iter().cloned().collect();
        }
        previous = Some(revision.id.clone());
    }
    Ok(revisions)
}

fn read_revision(dir: &Path, name: &str, up: &str) -> Result<Revision> {
    let metadata_path = dir.join("metadata.toml");
    let metadata = match std::fs::read_to_string(&metadata_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(metadata_path, e)),
    };
    parse_revision(dir, name, up, metadata.as_deref())
}

/// A revision from its directory's name and the text of its `up.sql` and (when there is
/// one) `metadata.toml`; `dir` is where they came from, for messages.
pub fn parse_revision(
    dir: &Path,
    name: &str,
    up_text: &str,
    metadata: Option<&str>,
) -> Result<Revision> {
    let id = version_of(name);
    if id.is_empty() {
        return Err(Error::Script(format!(
            "{}: the directory name has no version before `_`",
            dir.display()
        )));
    }
    let up = dir.join("up.sql");
    let header = parse_header(up_text).map_err(|(line, msg)| {
        Error::Script(format!("{}:{line}: malformed header: {msg}", up.display()))
    })?;
    let run_in_transaction = match metadata {
        Some(text) => parse_run_in_transaction(&dir.join("metadata.toml"), text)?,
        None => true,
    };
    let fallback_message = name
        .split_once('_')
        .map(|(_, slug)| slug.replace('_', " "))
        .unwrap_or_default();
    let Some(header) = header else {
        return Ok(Revision {
            id,
            dir: dir.to_path_buf(),
            message: fallback_message,
            parents: Vec::new(),
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            create_date: None,
            has_header: false,
            run_in_transaction,
        });
    };
    if header.revision_id != id && version_of(&header.revision_id) != id {
        return Err(Error::Script(format!(
            "{}:{}: malformed header: `Revision ID: {}` does not match the directory's version {id}",
            up.display(),
            header.revision_line,
            header.revision_id
        )));
    }
    Ok(Revision {
        id,
        dir: dir.to_path_buf(),
        message: header.message.unwrap_or(fallback_message),
        parents: header.revises,
        branch_labels: header.branch_labels,
        depends_on: header.depends_on,
        create_date: header.create_date,
        has_header: true,
        run_in_transaction,
    })
}

/// diesel's `run_in_transaction` from a `metadata.toml`'s text (true when not set).
fn parse_run_in_transaction(path: &Path, text: &str) -> Result<bool> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        #[serde(default = "yes")]
        run_in_transaction: bool,
    }
    fn yes() -> bool {
        true
    }
    toml::from_str::<Metadata>(text)
        .map(|m| m.run_in_transaction)
        .map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| crate::config::line_col(text, s.start).0);
            Error::ConfigSyntax {
                message: format!("{}:{line}: {}", path.display(), e.message().trim()),
                source: Box::new(e),
            }
        })
}

/// The header comment at the top of `up.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    message: Option<String>,
    revision_id: String,
    revision_line: usize,
    revises: Vec<String>,
    create_date: Option<String>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
}

/// A header line's position, key and value.
type HeaderField = (usize, String, String);

/// A malformed header: the line and the reason.
type HeaderError = (usize, String);

/// Parses the leading `--` comment block. `Ok(None)` when it carries no `Revision ID:`
/// (an adopted diesel migration); `Err((line, reason))` when it is malformed.
fn parse_header(text: &str) -> std::result::Result<Option<Header>, HeaderError> {
    let (message, fields) = header_lines(text);
    let Some((revision_line, _, revision_id)) =
        fields.iter().find(|(_, k, _)| k == "Revision ID").cloned()
    else {
        return match fields.first() {
            Some((line, key, _)) => Err((*line, format!("`{key}:` without `Revision ID:`"))),
            None => Ok(None),
        };
    };
    if revision_id.is_empty() {
        return Err((revision_line, "`Revision ID:` is empty".into()));
    }
    let revises = header_list(&fields, "Revises")?.ok_or((
        revision_line,
        "`Revises:` is missing (write `Revises:` with nothing after it for a first revision)"
            .to_owned(),
    ))?;
    Ok(Some(Header {
        message,
        revision_id,
        revision_line,
        revises,
        create_date: fields
            .iter()
            .find(|(_, k, _)| k == "Create Date")
            .map(|(_, _, v)| v.clone()),
        branch_labels: header_list(&fields, "Branch Labels")?.unwrap_or_default(),
        depends_on: header_list(&fields, "Depends On")?.unwrap_or_default(),
    }))
}

/// The leading `--` comment block: its first free-text line (the message) and its
/// `Key: value` fields.
fn header_lines(text: &str) -> (Option<String>, Vec<HeaderField>) {
    let mut message = None;
    let mut fields = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() && fields.is_empty() && message.is_none() {
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        let field = comment
            .split_once(':')
            .filter(|(k, _)| HEADER_KEYS.contains(k));
        match field {
            Some((key, value)) => fields.push((index + 1, key.to_owned(), value.trim().to_owned())),
            None if fields.is_empty() && message.is_none() && !comment.is_empty() => {
                message = Some(comment.to_owned());
            }
            None => {}
        }
    }
    (message, fields)
}

/// The header fields that name revisions or say what a revision is.
const HEADER_KEYS: [&str; 5] = [
    "Revision ID",
    "Revises",
    "Create Date",
    "Branch Labels",
    "Depends On",
];

/// `up.sql`'s text with header fields rewritten: `edit(key, value)` returns the new value
/// of a field (`Revision ID`, `Revises`, `Depends On`…), or `None` to keep it. Only the
/// leading comment block is touched; everything else, line endings included, stays as
/// it was.
pub fn rewrite_header(text: &str, edit: impl Fn(&str, &str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    // As `header_lines` reads it: blank lines before the block, then `--` lines.
    let (mut in_header, mut started) = (true, false);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let trimmed = body.trim();
        if trimmed.starts_with("--") {
            started = true;
        } else if started || !trimmed.is_empty() {
            in_header = false;
        }
        let field = trimmed
            .strip_prefix("--")
            .and_then(|c| c.trim().split_once(':'))
            .filter(|(k, _)| HEADER_KEYS.contains(k));
        match field.and_then(|(key, value)| edit(key, value.trim()).map(|v| (key, v))) {
            Some((key, value)) if in_header => {
                let indent = &body[..body.len() - body.trim_start().len()];
                let new = format!("{indent}-- {key}: {value}");
                out.push_str(new.trim_end());
                out.push_str(ending);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// A comma-separated header field (`Revises: a, b`), at most once, of revision names.
fn header_list(
    fields: &[HeaderField],
    key: &str,
) -> std::result::Result<Option<Vec<String>>, HeaderError> {
    let mut found = fields.iter().filter(|(_, k, _)| k == key);
    let Some((line, _, value)) = found.next() else {
        return Ok(None);
    };
    if let Some((again, _, _)) = found.next() {
        return Err((
            *again,
            format!("`{key}:` appears twice (first on line {line})"),
        ));
    }
    let items: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = items.iter().find(|s| {
        !s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '@')
    }) {
        return Err((*line, format!("`{key}:` has an invalid entry `{bad}`")));
    }
    Ok(Some(items))
}

/// Everything that goes into a new revision's files.
#[derive(Debug, Clone, Default)]
pub struct NewRevision {
    /// The revision id (a valid diesel version: ASCII letters and digits).
    pub id: String,
    /// The message (`-m`).
    pub message: String,
    /// The parents (`Revises:`).
    pub parents: Vec<String>,
    /// `Branch Labels:`.
    pub branch_labels: Vec<String>,
    /// `Depends On:`.
    pub depends_on: Vec<String>,
    /// `Create Date:` text.
    pub create_date: String,
    /// The body of up.sql (SQL or a placeholder comment).
    pub upgrades: String,
    /// The body of down.sql.
    pub downgrades: String,
}

/// Renders a revision template into the texts of `up.sql` and `down.sql`.
///
/// The template's `-- file: up.sql` and `-- file: down.sql` lines start each file; lines
/// before the first marker are notes for whoever edits the template. `${name}` fields are
/// filled; a line holding only a field that is empty disappears.
pub fn render_template(template: &str, revision: &NewRevision) -> Result<(String, String)> {
    let extra = {
        let mut lines = Vec::new();
        if !revision.branch_labels.is_empty() {
            lines.push(format!(
                "-- Branch Labels: {}",
                revision.branch_labels.join(", ")
            ));
        }
        if !revision.depends_on.is_empty() {
            lines.push(format!("-- Depends On: {}", revision.depends_on.join(", ")));
        }
        lines.join("\n")
    };
    let down_revision = revision.parents.join(", ");
    let values: [(&str, &str); 7] = [
        ("message", &revision.message),
        ("revision", &revision.id),
        ("down_revision", &down_revision),
        ("create_date", &revision.create_date),
        ("extra_headers", &extra),
        ("upgrades", &revision.upgrades),
        ("downgrades", &revision.downgrades),
    ];
    let mut up = None::<String>;
    let mut down = None::<String>;
    let mut current: Option<&mut Option<String>> = None;
    for line in template.lines() {
        match line.trim() {
            "-- file: up.sql" => {
                current = Some(&mut up);
                continue;
            }
            "-- file: down.sql" => {
                current = Some(&mut down);
                continue;
            }
            _ => {}
        }
        let Some(target) = current.as_deref_mut() else {
            continue;
        };
        let text = target.get_or_insert_with(String::new);
        let filled = values.iter().fold(line.to_owned(), |l, (k, v)| {
            l.replace(&format!("${{{k}}}"), v)
        });
        let only_field = values
            .iter()
            .any(|(k, v)| v.is_empty() && line.trim() == format!("${{{k}}}"));
        if !only_field {
            text.push_str(filled.trim_end());
            text.push('\n');
        }
    }
    match (up, down) {
        (Some(up), Some(down)) => Ok((tidy(&up), tidy(&down))),
        _ => Err(Error::Script(
            "the revision template needs a `-- file: up.sql` line and a `-- file: down.sql` line"
                .into(),
        )),
    }
}

/// Trims blank lines at both ends and ends with one newline.
fn tidy(text: &str) -> String {
    let trimmed = text.trim_matches('\n');
    let mut out = String::with_capacity(trimmed.len() + 1);
    let mut blank_run = 0;
    for line in trimmed.lines() {
        blank_run = if line.is_empty() { blank_run + 1 } else { 0 };
        if blank_run < 2 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The file-safe form of a message for the directory name: lower case, `_` between words,
/// at most 40 characters.
pub fn slug(message: &str) -> String {
    let mut out = String::new();
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let mut out: String = out.chars().take(40).collect();
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Writes a new revision directory `<id>_<slug>` with its `up.sql` and `down.sql`.
/// Refuses to overwrite an existing directory.
pub fn write_revision(
    versions_dir: &Path,
    template: &str,
    revision: &NewRevision,
) -> Result<PathBuf> {
    let (up, down) = render_template(template, revision)?;
    let slug = slug(&revision.message);
    let name = if slug.is_empty() {
        revision.id.clone()
    } else {
        format!("{}_{slug}", revision.id)
    };
    let dir = versions_dir.join(name);
    std::fs::create_dir_all(versions_dir).at(versions_dir)?;
    if let Some(other) = directory_with_version(versions_dir, &revision.id)? {
        return Err(Error::Exists {
            path: other,
            hint: format!(
                " with the id {}; choose another --rev-id (no two revisions may share an id)",
                revision.id
            ),
        });
    }
    std::fs::create_dir(&dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists {
                path: dir.clone(),
                hint: "; choose another --rev-id".into(),
            }
        } else {
            Error::io(&dir, e)
        }
    })?;
    std::fs::write(dir.join("up.sql"), up).at(dir.join("up.sql"))?;
    std::fs::write(dir.join("down.sql"), down).at(dir.join("down.sql"))?;
    Ok(dir)
}

/// The revision directory in `versions_dir` whose version is `id`, read afresh (another
/// process may have written one since the graph was loaded).
fn directory_with_version(versions_dir: &Path, id: &str) -> Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(versions_dir).at(versions_dir)? {
        let entry = entry.at(versions_dir)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && version_of(&name) == id && entry.path().is_dir() {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Reads the environment's revision template, or the built-in one.
pub fn load_template(script_location: &Path) -> Result<String> {
    let path = script_location.join(REVISION_TEMPLATE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(REVISION_TEMPLATE.to_owned()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Checks a user-chosen revision id and returns it as diesel will record it: diesel keeps
/// only what precedes `_` and drops `-`, so `2019-11-15-182353` is `20191115182353`; an id
/// is then 1 to 50 ASCII letters and digits (the version column's size).
pub fn normalise_rev_id(id: &str) -> Result<String> {
    let normalised = id.replace('-', "");
    if normalised.is_empty()
        || normalised.len() > 50
        || !normalised.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(Error::Usage(format!(
            "invalid revision id `{id}`: use 1 to 50 ASCII letters and digits (diesel drops `-` and cuts at `_`)"
        )));
    }
    Ok(normalised)
}

/// How many lowercase hex digits follow the timestamp in a generated id.
const SUFFIX_DIGITS: usize = 4;

/// Whether an id has the shape dbrev and diesel generate: 14 leading digits, a UTC
/// timestamp (`YYYYMMDDHHMMSS`, perhaps followed by a suffix such as dbrev's four hex
/// digits or diesel's `-XXXX` subversion). Only such ids promise that diesel's order (the
/// ids as text) is the order they were written in; ids chosen with `--rev-id` are the
/// user's to order.
pub fn is_timestamp_id(id: &str) -> bool {
    id.len() >= 14 && id.as_bytes()[..14].iter().all(u8::is_ascii_digit)
}

/// A new revision id: the UTC timestamp (`YYYYMMDDHHMMSS`) and four random lowercase hex
/// digits (`nonce`), so two revisions written in the same second — by two people on two
/// branches, or by a script — get distinct ids that are still valid diesel versions (as
/// diesel's own `-XXXX` subversion). The id sorts, as text (diesel's order), after every
/// timestamp-shaped id in `existing`: when the clock is not past the latest one (the same
/// second, a clock behind), the latest id's suffix is raised, or its second.
pub fn next_revision_id<'a>(
    existing: impl IntoIterator<Item = &'a str>,
    now: time::OffsetDateTime,
    nonce: u16,
) -> String {
    let candidate = format!("{}{nonce:04x}", date_time(now, "", "", ""));
    let Some(latest) = existing.into_iter().filter(|id| is_timestamp_id(id)).max() else {
        return candidate;
    };
    if candidate.as_str() > latest {
        return candidate;
    }
    let (second, suffix) = latest.split_at(14);
    if suffix.is_empty() {
        // An id without a suffix sorts before itself with one.
        return format!("{second}{nonce:04x}");
    }
    let is_hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if suffix.len() == SUFFIX_DIGITS
        && is_hex(suffix)
        && let Ok(value) = u16::from_str_radix(suffix, 16)
        && value < u16::MAX
    {
        let next = value + 1 + nonce % (u16::MAX - value);
        return format!("{second}{next:04x}");
    }
    let next_second = second.parse::<u64>().map_or(0, |s| s + 1);
    format!("{next_second:014}{nonce:04x}")
}

/// Four random hex digits for [`next_revision_id`]: from the process's randomly keyed
/// hasher, the clock and the process id, so two processes started together differ too.
pub fn fresh_nonce() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    (hasher.finish() & 0xffff) as u16
}

/// `Create Date:` text for a timestamp: `2026-11-24 14:30:00 UTC`.
pub fn create_date(now: time::OffsetDateTime) -> String {
    format!("{} UTC", date_time(now, "-", " ", ":"))
}

/// `YYYY-MM-DD hh:mm:ss` with the given separators between the date's fields, between
/// date and time, and between the time's fields.
fn date_time(now: time::OffsetDateTime, date: &str, middle: &str, time: &str) -> String {
    format!(
        "{:04}{date}{:02}{date}{:02}{middle}{:02}{time}{:02}{time}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diesel_versions() {
        assert_eq!(
            version_of("2023-01-02-030405_create_users"),
            "20230102030405"
        );
        assert_eq!(version_of("2023-01-02-030405-0000_x"), "202301020304050000");
        assert_eq!(version_of("20230102030405_x_y"), "20230102030405");
        assert_eq!(
            version_of("00000000000000_diesel_initial_setup"),
            "00000000000000"
        );
    }

    #[test]
    fn checksums_ignore_line_endings_and_files_name_bad_bytes() {
        assert_eq!(checksum("a\r\nb\r\n"), checksum("a\nb\n"));
        assert_ne!(checksum("a\nb\n"), checksum("a\nc\n"));
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("up.sql");
        std::fs::write(&path, b"SELECT 1;\nSELECT '\xff';\n").unwrap();
        let err = read_sql_file(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("up.sql:2:9: not valid UTF-8; save the file as UTF-8"),
            "{err}"
        );
        assert_eq!(
            normalise_rev_id("2019-11-15-182353").unwrap(),
            "20191115182353"
        );
        assert!(normalise_rev_id("a_b").is_err());
    }

    #[test]
    fn each_revision_file_is_read_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let rev = dir.path().join("1_first");
        std::fs::create_dir(&rev).unwrap();
        let up = format!("CREATE TABLE a (id INT);\n{}", "-- padding\n".repeat(1000));
        std::fs::write(rev.join("up.sql"), &up).unwrap();
        std::fs::write(rev.join("down.sql"), "DROP TABLE a;\n").unwrap();
        std::fs::create_dir(dir.path().join("2_empty")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a revision").unwrap();
        let (revisions, texts) = load_revisions(dir.path()).unwrap();
        assert_eq!(revisions.len(), 1);
        // A run checksums, lints and runs the text it read first.
        std::fs::write(rev.join("up.sql"), "edited").unwrap();
        assert_eq!(&*texts.read(&rev.join("up.sql")).unwrap(), up);
        let down = rev.join("down.sql");
        assert_eq!(
            texts.read_if_exists(&down).unwrap().as_deref(),
            Some("DROP TABLE a;\n")
        );
        std::fs::remove_file(&down).unwrap();
        assert!(texts.read(&down).is_ok());
        assert!(texts.read_if_exists(&rev.join("x.sql")).unwrap().is_none());
        assert!(texts.read(&rev.join("x.sql")).is_err());
        std::fs::create_dir_all(dir.path().join("3_odd/up.sql")).unwrap();
        let err = read_revisions(dir.path()).unwrap_err().to_string();
        assert!(err.contains("3_odd: not a revision"), "{err}");
    }

    #[test]
    fn parses_headers() {
        let text = "-- add tags\n--\n-- Revision ID: 2\n-- Revises: 1\n-- Create Date: x\n-- Branch Labels: feat\n\nCREATE TABLE t (id int);\n";
        let h = parse_header(text).unwrap().unwrap();
        assert_eq!(h.message.as_deref(), Some("add tags"));
        assert_eq!(h.revision_id, "2");
        assert_eq!(h.revises, vec!["1"]);
        assert_eq!(h.branch_labels, vec!["feat"]);
        let merge = "-- m\n-- Revision ID: 3\n-- Revises: 1, 2\n";
        assert_eq!(
            parse_header(merge).unwrap().unwrap().revises,
            vec!["1", "2"]
        );
        let root = "-- first\n-- Revision ID: 1\n-- Revises:\n";
        assert!(parse_header(root).unwrap().unwrap().revises.is_empty());
        assert_eq!(
            parse_header("-- Your SQL goes here\nCREATE TABLE x();").unwrap(),
            None
        );
        let (line, msg) = parse_header("-- m\n-- Revision ID: 1\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(msg.contains("Revises"), "{msg}");
        let (line, _) = parse_header("-- m\n-- Revises: 1\n").unwrap_err();
        assert_eq!(line, 2);
    }

    #[test]
    fn rewrites_header_fields_only() {
        let text = "-- add tags\r\n--\r\n-- Revision ID: 2\r\n-- Revises: 1\r\n-- Depends On: 1, x\r\n\r\n-- Revises: 1 (not the header)\r\nSELECT 1;\r\n";
        let out = rewrite_header(text, |key, value| match key {
            "Revision ID" => Some("7".into()),
            "Revises" => Some(String::new()),
            "Depends On" => Some(value.replace('1', "9")),
            _ => None,
        });
        assert_eq!(
            out,
            "-- add tags\r\n--\r\n-- Revision ID: 7\r\n-- Revises:\r\n-- Depends On: 9, x\r\n\r\n-- Revises: 1 (not the header)\r\nSELECT 1;\r\n"
        );
        let header = parse_header(&out).unwrap().unwrap();
        assert_eq!(header.revision_id, "7");
        assert!(header.revises.is_empty());
    }

    #[test]
    fn renders_the_template() {
        let rev = NewRevision {
            id: "20261124143000".into(),
            message: "add sponsor tags".into(),
            parents: vec!["20261120090000".into()],
            create_date: "2026-11-24 14:30:00 UTC".into(),
            upgrades: "CREATE TABLE t (id INTEGER);".into(),
            downgrades: "DROP TABLE t;".into(),
            ..Default::default()
        };
        let (up, down) = render_template(REVISION_TEMPLATE, &rev).unwrap();
        assert_eq!(
            up,
            "-- add sponsor tags\n--\n-- Revision ID: 20261124143000\n-- Revises: 20261120090000\n-- Create Date: 2026-11-24 14:30:00 UTC\n\nCREATE TABLE t (id INTEGER);\n"
        );
        assert!(down.ends_with("DROP TABLE t;\n"), "{down}");
        let header = parse_header(&up).unwrap().unwrap();
        assert_eq!(header.revises, rev.parents);
    }

    #[test]
    fn slugs_and_ids() {
        assert_eq!(slug("Add sponsor tags!"), "add_sponsor_tags");
        assert_eq!(slug("  --  "), "");
        assert_eq!(slug(&"x".repeat(80)).len(), 40);
        let now = time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let first = next_revision_id([], now, 0x1234);
        assert_eq!(first, "202611181106401234");
        assert!(is_timestamp_id(&first));
        // Two people in the same second: the random suffix tells them apart.
        assert_ne!(first, next_revision_id([], now, 0xbeef));
        // A script in the same second: after the latest, suffix raised.
        let second = next_revision_id([first.as_str()], now, 0x1234);
        assert!(
            second > first && second.starts_with("20261118110640"),
            "{second}"
        );
        let third = next_revision_id([first.as_str(), second.as_str()], now, 0);
        assert!(third > second, "{third} > {second}");
        // Suffix exhausted: the next second.
        assert_eq!(
            next_revision_id(["20261118110640ffff"], now, 7),
            "202611181106410007"
        );
        // An id without a suffix (an older dbrev, diesel), or from a clock ahead.
        assert_eq!(
            next_revision_id(["20261118110640"], now, 0x1234),
            "202611181106401234"
        );
        let ahead = next_revision_id(["20991231235959"], now, 0xa);
        assert_eq!(ahead, "20991231235959000a");
        // diesel's `-XXXX` subversion, and odd shapes: the next second.
        assert_eq!(
            next_revision_id(["202611181106400000", "20261118110640123456"], now, 5),
            "202611181106410005"
        );
        // Ids chosen by hand do not count (`b2` sorts after every timestamp).
        assert_eq!(next_revision_id(["b2", "a1"], now, 0x1234), first);
        assert!(!is_timestamp_id("b2") && !is_timestamp_id("2025111908264"));
    }
}
