//! Files and directories of `state_dir`, created private to the agent's user: directories
//! 0700, files 0600, whatever the umask. The state (the persisted remote config, the spool's
//! batches, the topic records) is the device's own and may name its broker and topics; nobody
//! else on the host needs to read it. Modes apply to what is created: an existing directory
//! keeps the mode its owner gave it.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Mode of the directories created.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the files created.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents, each 0700.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Open options that create files 0600 (set read, write, create… on them as usual).
pub fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// Writes `bytes` to `path`, creating it 0600 or truncating it.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?
        .write_all(bytes)
}

#[cfg(test)]
#[path = "private_fs_tests.rs"]
mod tests;
