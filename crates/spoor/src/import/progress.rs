//! The import's progress on standard error: redrawn in place on a terminal,
//! a line every ten seconds otherwise (a log keeps them).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub struct Progress {
    name: String,
    total_bytes: Option<u64>,
    quiet: bool,
    terminal: bool,
    every: Duration,
    started: Instant,
    last: Option<Instant>,
    drawn: bool,
    warned: bool,
}

impl Progress {
    pub fn new(path: &Path, total_bytes: Option<u64>, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            name: path.display().to_string(),
            total_bytes,
            quiet,
            terminal,
            every: if terminal {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(10)
            },
            started: Instant::now(),
            last: None,
            drawn: false,
            warned: false,
        }
    }

    pub fn update(&mut self, offset: u64, rows: u64, stored: u64, duplicates: u64) {
        if self.quiet || self.last.is_some_and(|t| t.elapsed() < self.every) {
            return;
        }
        self.last = Some(Instant::now());
        let share = match self.total_bytes {
            Some(total) if total > 0 => format!("{:5.1}% ", offset as f64 * 100.0 / total as f64),
            _ => String::new(),
        };
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let line = format!(
            "{}: {share}{rows} rows, {stored} stored, {duplicates} already there ({:.0} events/s)",
            self.name,
            (stored + duplicates) as f64 / secs
        );
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            self.drawn = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    pub fn warn_once(&mut self, warning: &str) {
        if !self.warned {
            self.warned = true;
            self.finish();
            eprintln!("{}: warning: {warning}", self.name);
        }
    }

    /// Ends the redrawn line, so the summary starts on its own.
    pub fn finish(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }
}
