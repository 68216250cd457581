//! Which Rust toolchain builds the project, and the environment its commands run in.
//!
//! Two routes lead to a `wasm32-unknown-unknown` build:
//! - **rustup**, where `rustup target list --installed` shows the target (an
//!   ordinary developer machine);
//! - **Debian**, where rustup cannot download the target: Debian's `rustc-web`
//!   toolchain in `/usr/bin`, with the wasm32 standard library built once from
//!   `rust-web-src` into its sysroot (see `setup`).

use std::{
    env,
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use crate::process;

/// The wasm target every client build uses.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Where Debian's `rustc-web` keeps its target libraries.
pub(crate) const DEBIAN_SYSROOT_LIBS: &str = "/usr/lib/rustlib";

/// The toolchain route in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// rustup's toolchain has the wasm32 target installed.
    Rustup,
    /// Debian's `rustc-web` in `/usr/bin`, with a wasm32 std built locally.
    Debian,
}

impl Route {
    /// Picks rustup when it already has the wasm32 target, Debian otherwise.
    /// Never asks rustup to download anything (that hangs without a network).
    pub(crate) fn detect() -> Route {
        let mut list = Command::new("rustup");
        list.args(["target", "list", "--installed"]);
        match process::output(&mut list, Duration::from_secs(30)) {
            Ok(targets) if targets.lines().any(|line| line.trim() == WASM_TARGET) => Route::Rustup,
            _ => Route::Debian,
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else the workspace's `target/`.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `$CARGO_HOME/bin`, where `cargo install` puts wasm-bindgen and wasm-pack.
pub(crate) fn cargo_bin_dir() -> PathBuf {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// `PATH` for every child command: on the Debian route `/usr/bin` first, so
/// `cargo` and `rustc` are Debian's; `$CARGO_HOME/bin` always present.
pub(crate) fn search_path(route: Route) -> OsString {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if route == Route::Debian {
        dirs.push(PathBuf::from("/usr/bin"));
    }
    dirs.push(cargo_bin_dir());
    if let Some(path) = env::var_os("PATH") {
        dirs.extend(env::split_paths(&path));
    }
    let mut seen = Vec::new();
    dirs.retain(|dir| {
        let fresh = !seen.contains(dir);
        seen.push(dir.clone());
        fresh
    });
    env::join_paths(dirs).expect("PATH entries contain no separator")
}

/// A command that runs in the toolchain's environment, from the workspace root.
pub(crate) fn command(route: Route, program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(workspace_root())
        .env("PATH", search_path(route));
    if route == Route::Debian {
        // `cargo xtask` may have been started by rustup's cargo: don't let its
        // choices leak into Debian's toolchain.
        for var in [
            "RUSTUP_TOOLCHAIN",
            "RUSTC",
            "RUSTDOC",
            "CARGO",
            "RUSTC_WRAPPER",
        ] {
            cmd.env_remove(var);
        }
    }
    cmd
}

/// Whether the toolchain's sysroot has the standard library's source
/// (`rust-src`: Debian's `rust-web-src`), which `-Z build-std` needs.
pub(crate) fn has_std_source(route: Route) -> bool {
    let mut rustc = command(route, "rustc");
    rustc.args(["--print", "sysroot"]);
    process::output(&mut rustc, Duration::from_secs(30)).is_ok_and(|sysroot| {
        Path::new(sysroot.trim())
            .join("lib/rustlib/src/rust/library/std/Cargo.toml")
            .is_file()
    })
}

/// Finds `program` on the toolchain's `PATH`.
pub(crate) fn which(route: Route, program: &str) -> Option<PathBuf> {
    env::split_paths(&search_path(route))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
