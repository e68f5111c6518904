//! A database copied into another with no file in between: the source dumped on a thread
//! of its own (one consistent snapshot, read only) into a bounded in-memory pipe that the
//! restore reads from, so memory stays flat whatever the size of the source.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{DumpOptions, RestoreOptions, RestoreStats, dump, restore_stream};
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::term::Reporter;
use crate::url::DatabaseUrl;

/// How much a pipe holds before the writer waits: this many chunks of [`CHUNK`] bytes.
const CHUNKS: usize = 16;
const CHUNK: usize = 1 << 16;

/// The writing end: whole chunks to the reader, the rest on flush or drop.
struct PipeWriter {
    sender: SyncSender<Vec<u8>>,
    pending: Vec<u8>,
    /// Set when the reader went away (the restore stopped first).
    broken: Arc<AtomicBool>,
}

impl PipeWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK));
        self.sender.send(chunk).map_err(|_| {
            self.broken.store(true, Ordering::SeqCst);
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the restore stopped reading",
            )
        })
    }
}

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= CHUNK {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The reading end: ends when the writer is gone.
struct PipeReader {
    receiver: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.receiver.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Copies the database at `source` into the connected (empty) database: a dump of one
/// consistent snapshot of the source, read only, streamed straight into a restore. When
/// the dump fails the restore only sees the stream end early, so the dump's error is the
/// one returned; when the restore fails first, the restore's.
pub fn copy_database(
    source: &DatabaseUrl,
    target: &mut Connection,
    reporter: &Reporter,
) -> Result<RestoreStats> {
    if source.backend() != target.backend() {
        return Err(Error::Usage(format!(
            "cannot copy {source} ({}) into {} ({}): a copy goes to a server of the same kind",
            source.backend(),
            target.url(),
            target.backend()
        )));
    }
    let (sender, receiver) = sync_channel(CHUNKS);
    let broken = Arc::new(AtomicBool::new(false));
    let pipe_broken = broken.clone();
    let url = source.clone();
    let dumper = std::thread::Builder::new()
        .name("dbrev-copy".into())
        .spawn(move || -> Result<()> {
            let mut conn = Connection::establish(&url)?;
            let mut pipe = PipeWriter {
                sender,
                pending: Vec::with_capacity(CHUNK),
                broken: pipe_broken,
            };
            dump(
                &mut conn,
                &mut pipe,
                &DumpOptions::default(),
                &Reporter::quiet(),
            )?;
            pipe.flush()
                .map_err(|e| Error::write(format!("streaming the dump of {url}"), e))
        })
        .map_err(|e| Error::Export(format!("starting the copy of {source}: {e}")))?;
    let reader = PipeReader {
        receiver,
        chunk: Vec::new(),
        at: 0,
    };
    let restored = restore_stream(
        target,
        Box::new(reader),
        &source.masked(),
        &RestoreOptions::default(),
        reporter,
    );
    let dumped = dumper
        .join()
        .map_err(|_| Error::Export(format!("the dump of {source} stopped unexpectedly")))?;
    match dumped {
        // The source failed first: the restore only saw the stream end early.
        Err(e) if !broken.load(Ordering::SeqCst) => Err(e),
        _ => restored,
    }
}
