//! Value Change Dump files: the parser the replay sampler reads and the writer `capture` emits.

/// Why a VCD file was rejected; carries the line number.
#[derive(Debug, thiserror::Error)]
pub enum VcdError {
    /// The text is not valid VCD at this line.
    #[error("line {line}: {reason}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong there.
        reason: String,
    },
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
