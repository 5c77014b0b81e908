//! What the client reports: a `tracing` subscriber writing JSON lines into a buffer, and a
//! metrics recorder, both scoped to the current thread (a `#[tokio::test]` runs every task
//! of the test, the sandbox's included, on that thread).

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Log lines captured from every event at every level.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

pub(crate) struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter(self.0.clone())
    }
}

impl Logs {
    /// Captures every event, at `TRACE` and above, on this thread until the guard drops.
    pub(crate) fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        // tracing caches per call site whether anyone listens. Tests run in parallel, and a
        // call site first reached on a thread with no subscriber could be cached as
        // "never" while another test installs its own. A global subscriber that listens
        // to everything (and keeps nothing) keeps every call site live.
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        });
        let logs = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }

    /// Everything written, as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// The events whose message is `message`, as their `fields` objects.
    pub(crate) fn events(&self, message: &str) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| v["fields"].clone())
            .filter(|f| f["message"] == message)
            .collect()
    }
}
