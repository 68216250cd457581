//! A config file for the binary's tests, in a folder of its own, removed
//! when dropped. Shared by the command line's unit tests and the binary's
//! integration tests.

use std::path::{Path, PathBuf};

/// A config file holding some text.
pub(crate) struct ConfigFile(PathBuf);

impl ConfigFile {
    /// Writes `text` to `server.toml` in a new folder named after `name` and this process.
    pub(crate) fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sails-config-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("server.toml");
        std::fs::write(&path, text).expect("write config");
        Self(path)
    }

    /// The folder the file is in.
    #[allow(dead_code, reason = "used by the command line's unit tests only")]
    pub(crate) fn dir(&self) -> &Path {
        self.0.parent().expect("the file is in a folder")
    }

    /// The file's path, as a command-line argument.
    pub(crate) fn arg(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
