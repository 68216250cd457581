//! The workspace's packages and binaries that xtask builds and runs, named in
//! one place, and the one release build the bench and the instruction
//! counts share.

use std::{path::PathBuf, time::Duration};

use crate::{
    error::Result,
    process,
    toolchain::{self, Route},
};

/// The package of the demo server binary and the interop example app.
pub(crate) const SERVER_APP: &str = "sails-app";
/// The demo server binary.
pub(crate) const SERVER_BIN: &str = "sails-server";
/// The example app with the interop routes (`--port 0 --www DIR`).
pub(crate) const INTEROP_EXAMPLE: &str = "interop";
/// The testkit's temporary PostgreSQL, for the Node tests (built by `cargo test`).
pub(crate) const TEMP_POSTGRES_BIN: &str = "sails-temp-postgres";
/// The example app with the routes sails.io.js's own suite expects (`--port 0`).
pub(crate) const SAILSIO_SUITE_EXAMPLE: &str = "sailsio_suite";
/// The package of the load generator, the bare server and the hot paths.
pub(crate) const BENCH: &str = "sails-bench";
/// The load generator.
pub(crate) const LOADGEN_BIN: &str = "sails-loadgen";
/// The bare socketioxide server the bench compares with.
pub(crate) const BARE_SERVER_BIN: &str = "bare-socketioxide";
/// The hot paths, one at a time, for valgrind.
pub(crate) const INSTRUCTIONS_BIN: &str = "sails-instructions";
/// The browser client, as cargo names it.
pub(crate) const CLIENT: &str = "sails-io-wasm";
/// The browser client, as wasm-bindgen names its files.
pub(crate) const CLIENT_ARTIFACT: &str = "sails_io_wasm";

const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);

/// The binaries of one cargo profile.
#[derive(Debug, Clone)]
pub(crate) struct Binaries(PathBuf);

impl Binaries {
    /// The dev profile's (what `cargo test` builds).
    pub(crate) fn debug() -> Self {
        Self(toolchain::target_dir().join("debug"))
    }

    /// The release profile's.
    pub(crate) fn release() -> Self {
        Self(toolchain::target_dir().join("release"))
    }

    /// A binary target.
    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The interop example app.
    pub(crate) fn interop(&self) -> PathBuf {
        self.example(INTEROP_EXAMPLE)
    }

    /// An example program.
    pub(crate) fn example(&self, name: &str) -> PathBuf {
        self.0.join("examples").join(name)
    }
}

/// Builds, with the release profile, the interop app and every binary of the
/// bench: one command for `cargo xtask bench` and the instruction-count test
/// layer, so that whichever runs second finds the build done.
pub(crate) fn build_release(route: Route) -> Result<Binaries> {
    let mut build = toolchain::command(route, "cargo");
    build.args(["build", "--release", "--package", SERVER_APP, "--example"]);
    build.args([INTEROP_EXAMPLE, "--package", BENCH, "--bins"]);
    process::run(&mut build, BUILD_LIMIT)?;
    Ok(Binaries::release())
}
