//! Standard output kept for what a command prints. The program runs natively inside this
//! process, and a native `msg!` prints to stdout; with `--output json`, stdout must hold the
//! JSON alone.

use std::io::Write;

/// Points file descriptor 1 at standard error until dropped.
pub struct StdoutToStderr(i32);

impl StdoutToStderr {
    pub fn new() -> Self {
        let _ = std::io::stdout().flush();
        // SAFETY: plain descriptor duplication; restored in `drop`.
        unsafe {
            let saved = libc::dup(1);
            libc::dup2(2, 1);
            Self(saved)
        }
    }
}

impl StdoutToStderr {
    /// The real standard output, for what must reach it while the redirection holds (the
    /// worker's JSON events).
    pub fn original(&self) -> std::io::Result<std::fs::File> {
        use std::os::fd::FromRawFd;
        // SAFETY: a duplicate of the saved descriptor, owned by the returned file.
        let copy = unsafe { libc::dup(self.0) };
        if copy < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `copy` is a fresh descriptor nothing else owns.
        Ok(unsafe { std::fs::File::from_raw_fd(copy) })
    }
}

impl Default for StdoutToStderr {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: restores the descriptor saved in `new`.
        unsafe {
            libc::dup2(self.0, 1);
            libc::close(self.0);
        }
    }
}

/// Writes `text` and a newline to stdout. A reader that closed the pipe early (`| head`) has
/// all it wanted: that ends the output quietly instead of failing.
pub fn print_line(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|_| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error),
        _ => Ok(()),
    }
}
