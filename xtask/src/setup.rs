//! `cargo xtask setup`: installs what the project needs and is missing, and
//! nothing that is present. Every step that can reach out has a time limit;
//! a step that needs root prints the exact commands when it isn't root.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use crate::{
    error::{Error, Result},
    process,
    toolchain::{self, Route, WASM_TARGET},
};

const MINUTE: Duration = Duration::from_secs(60);

/// Debian packages and the file each one provides, by which its presence is checked.
struct Package {
    name: &'static str,
    provides: &'static str,
}

/// Always needed: the wasm optimiser, the browser and its driver, Node for the
/// browser tests, valgrind for the benchmarks' instruction counts, the
/// PostgreSQL server the models' tests start (any major), Redis for the
/// many-servers tests (each test starts its own).
const TOOL_PACKAGES: &[Package] = &[
    Package {
        name: "binaryen",
        provides: "wasm-opt",
    },
    Package {
        name: "chromium",
        provides: "chromium",
    },
    Package {
        name: "chromium-driver",
        provides: "chromedriver",
    },
    Package {
        name: "nodejs",
        provides: "node",
    },
    Package {
        name: "npm",
        provides: "npm",
    },
    Package {
        name: "valgrind",
        provides: "valgrind",
    },
    Package {
        name: "postgresql",
        provides: "/usr/lib/postgresql/*/bin/postgres",
    },
    Package {
        name: "redis-server",
        provides: "redis-server",
    },
];

/// The Debian route's toolchain: Rust with wasm32 support, its std sources, clippy, the wasm linker.
const DEBIAN_RUST_PACKAGES: &[Package] = &[
    Package {
        name: "rustc-web",
        provides: "/usr/bin/rustc",
    },
    Package {
        name: "cargo-web",
        provides: "/usr/bin/cargo",
    },
    Package {
        name: "rust-web-src",
        provides: "/usr/lib/rustlib/src/rust/library/std/Cargo.toml",
    },
    Package {
        name: "rust-web-clippy",
        provides: "/usr/bin/cargo-clippy",
    },
    Package {
        name: "lld-22",
        provides: "/usr/lib/llvm-22/bin/lld",
    },
];

/// The wasm linker rustc calls for wasm32 (a link to Debian's lld).
const RUST_LLD_LINK: &str = "/usr/local/bin/rust-lld";
const DEBIAN_LLD: &str = "/usr/lib/llvm-22/bin/lld";

/// One set-up step: reports what it found or installed, or why it failed.
type Step = fn(Route) -> Result<Outcome>;

/// What one step found or did.
enum Outcome {
    Present(String),
    Installed(String),
}

/// Runs every step in order; stops at the first that fails, naming what to do by hand.
pub(crate) fn run(route: Route) -> Result {
    let started = Instant::now();
    println!("setup: toolchain route: {route:?}");
    let steps: [(&str, Step); 7] = [
        ("system packages", system_packages),
        ("rust-lld", rust_lld),
        ("wasm32 standard library", wasm32_std),
        ("wasm-bindgen-cli", wasm_bindgen_cli),
        ("wasm-pack", wasm_pack),
        ("cargo-fuzz", cargo_fuzz_step),
        ("npm packages", npm_packages),
    ];
    let mut installed = 0;
    for (name, step) in steps {
        match step(route).map_err(|why| why.within(format!("setup: {name}")))? {
            Outcome::Present(what) => println!("setup: {name}: present ({what})"),
            Outcome::Installed(what) => {
                installed += 1;
                println!("setup: {name}: installed ({what})");
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f32();
    if installed == 0 {
        println!("setup: everything is present ({elapsed:.1}s)");
    } else {
        println!("setup: installed {installed} item(s) in {elapsed:.1}s");
    }
    Ok(())
}

fn is_present(route: Route, provides: &str) -> bool {
    if let Some((parent, rest)) = provides.split_once("/*/") {
        fs::read_dir(parent).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|entry| entry.path().join(rest).exists())
        })
    } else if provides.starts_with('/') {
        Path::new(provides).exists()
    } else {
        toolchain::which(route, provides).is_some()
    }
}

fn is_root() -> bool {
    process::output(Command::new("id").arg("-u"), Duration::from_secs(10))
        .is_ok_and(|uid| uid.trim() == "0")
}

fn system_packages(route: Route) -> Result<Outcome> {
    let wanted = TOOL_PACKAGES.iter().chain(match route {
        Route::Debian => DEBIAN_RUST_PACKAGES,
        Route::Rustup => &[],
    });
    let missing: Vec<&str> = wanted
        .filter(|package| !is_present(route, package.provides))
        .map(|package| package.name)
        .collect();
    if missing.is_empty() {
        return Ok(Outcome::Present("all Debian packages".into()));
    }
    let install = format!("apt-get install -y {}", missing.join(" "));
    if toolchain::which(route, "apt-get").is_none() || !is_root() {
        return Err(Error::NotAvailable(format!(
            "missing {}; as root, run:\n    apt-get update\n    {install}",
            missing.join(", ")
        )));
    }
    let fix = format!("run by hand: apt-get update && {install}");
    let apt = |args: &[&str], limit| {
        let mut cmd = toolchain::command(route, "apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        process::run(&mut cmd, limit).map_err(|err| err.with_fix(fix.as_str()))
    };
    apt(&["update"], 15 * MINUTE)?;
    let mut args = vec!["install", "-y"];
    args.extend(&missing);
    apt(&args, 30 * MINUTE)?;
    Ok(Outcome::Installed(missing.join(" ")))
}

fn rust_lld(route: Route) -> Result<Outcome> {
    if route == Route::Rustup {
        return Ok(Outcome::Present("rustup ships its own".into()));
    }
    if let Some(path) = toolchain::which(route, "rust-lld") {
        return Ok(Outcome::Present(path.display().to_string()));
    }
    std::os::unix::fs::symlink(DEBIAN_LLD, RUST_LLD_LINK).map_err(|err| {
        Error::io("link", RUST_LLD_LINK, err).with_fix(format!(
            "as root, run:\n    ln -sf {DEBIAN_LLD} {RUST_LLD_LINK}"
        ))
    })?;
    Ok(Outcome::Installed(format!(
        "{RUST_LLD_LINK} -> {DEBIAN_LLD}"
    )))
}

/// Compiles a one-line crate for wasm32 with the toolchain's rustc: proves
/// that a std built by *this* rustc is in its sysroot.
fn wasm32_std_works(route: Route) -> bool {
    let probe_dir = toolchain::workspace_root().join("target/xtask");
    if fs::create_dir_all(&probe_dir).is_err() {
        return false;
    }
    let source = probe_dir.join("wasm32_probe.rs");
    if fs::write(&source, "pub fn probe() -> String { format!(\"{}\", 1) }\n").is_err() {
        return false;
    }
    let mut rustc = toolchain::command(route, "rustc");
    rustc
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--target",
            WASM_TARGET,
            "-o",
        ])
        .arg(probe_dir.join("libwasm32_probe.rlib"))
        .arg(&source);
    let compiles = process::output(&mut rustc, 2 * MINUTE).is_ok();
    compiles && sysroot_has_test_crate()
}

fn debian_wasm_lib_dir() -> PathBuf {
    Path::new(toolchain::DEBIAN_SYSROOT_LIBS)
        .join(WASM_TARGET)
        .join("lib")
}

fn sysroot_has_test_crate() -> bool {
    fs::read_dir(debian_wasm_lib_dir()).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libtest-") && name.ends_with(".rlib")
        })
    })
}

fn wasm32_std(route: Route) -> Result<Outcome> {
    if route == Route::Rustup {
        return Ok(Outcome::Present(format!("rustup target {WASM_TARGET}")));
    }
    if wasm32_std_works(route) {
        return Ok(Outcome::Present(
            debian_wasm_lib_dir().display().to_string(),
        ));
    }
    // Build std, panic_abort and test from Debian's rust-web-src, once.
    let build_dir = toolchain::workspace_root().join("target/xtask/wasm-sysroot");
    fs::create_dir_all(build_dir.join("src"))
        .and_then(|()| {
            fs::write(
                build_dir.join("Cargo.toml"),
                "[package]\nname = \"wasm-sysroot\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
            )
        })
        .and_then(|()| fs::write(build_dir.join("src/lib.rs"), ""))
        .map_err(|err| Error::io("write", &build_dir, err))?;
    let mut cargo = toolchain::command(route, "cargo");
    cargo
        .current_dir(&build_dir)
        .args(["build", "--release", "--target", WASM_TARGET])
        .args(["-Z", "build-std=std,panic_abort,test"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld-22")
        .env_remove("CARGO_TARGET_DIR");
    process::run(&mut cargo, 30 * MINUTE)?;

    let built = build_dir
        .join("target")
        .join(WASM_TARGET)
        .join("release/deps");
    let dest = debian_wasm_lib_dir();
    fs::create_dir_all(&dest)
        .map_err(|err| Error::io("create", &dest, err).with_fix("run setup as root"))?;
    let mut copied = 0;
    for entry in fs::read_dir(&built)
        .map_err(|err| Error::io("list", &built, err))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".rlib") && !name.starts_with("libwasm_sysroot") {
            fs::copy(entry.path(), dest.join(&name))
                .map_err(|err| Error::io("copy into", dest.join(&name), err))?;
            copied += 1;
        }
    }
    if !wasm32_std_works(route) {
        return Err(Error::Check(format!(
            "built and copied {copied} libraries into {}, but rustc still cannot build for {WASM_TARGET}",
            dest.display()
        )));
    }
    Ok(Outcome::Installed(format!(
        "{copied} libraries into {}",
        dest.display()
    )))
}

/// The exact `wasm-bindgen` version in `Cargo.lock` (the CLI must match it).
pub(crate) fn locked_wasm_bindgen_version() -> Result<String> {
    let lock_path = toolchain::workspace_root().join("Cargo.lock");
    let lock = fs::read_to_string(&lock_path).map_err(|err| Error::io("read", &lock_path, err))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|next| next.trim().strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    Err(Error::BadFile {
        file: "Cargo.lock",
        problem: "no wasm-bindgen entry".into(),
    })
}

fn installed_version(route: Route, program: &str) -> Option<String> {
    let mut cmd = toolchain::command(route, program);
    cmd.arg("--version");
    let text = process::output(&mut cmd, Duration::from_secs(30)).ok()?;
    text.split_whitespace().nth(1).map(str::to_owned)
}

fn cargo_install(route: Route, args: &[&str]) -> Result {
    let mut cargo = toolchain::command(route, "cargo");
    cargo
        .arg("install")
        .args(args)
        .env_remove("CARGO_TARGET_DIR");
    process::run(&mut cargo, 45 * MINUTE)
        .map_err(|err| err.with_fix(format!("run by hand: cargo install {}", args.join(" "))))
}

fn wasm_bindgen_cli(route: Route) -> Result<Outcome> {
    let wanted = locked_wasm_bindgen_version()?;
    let found = installed_version(route, "wasm-bindgen");
    if found.as_deref() == Some(wanted.as_str()) {
        return Ok(Outcome::Present(format!("wasm-bindgen {wanted}")));
    }
    cargo_install(route, &["wasm-bindgen-cli", "--version", &wanted])?;
    Ok(Outcome::Installed(match found {
        Some(old) => format!("wasm-bindgen {wanted}, replacing {old}"),
        None => format!("wasm-bindgen {wanted}"),
    }))
}

/// The wasm-pack version installed when none is present.
const WASM_PACK_VERSION: &str = "0.13.1";

fn wasm_pack(route: Route) -> Result<Outcome> {
    if let Some(version) = installed_version(route, "wasm-pack") {
        return Ok(Outcome::Present(format!("wasm-pack {version}")));
    }
    cargo_install(route, &["wasm-pack", "--version", WASM_PACK_VERSION])?;
    Ok(Outcome::Installed(format!("wasm-pack {WASM_PACK_VERSION}")))
}

/// The cargo-fuzz version installed when none is present.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

fn cargo_fuzz_step(route: Route) -> Result<Outcome> {
    if let Some(version) = installed_version(route, "cargo-fuzz") {
        return Ok(Outcome::Present(format!("cargo-fuzz {version}")));
    }
    cargo_install(
        route,
        &["cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked"],
    )?;
    Ok(Outcome::Installed(format!(
        "cargo-fuzz {CARGO_FUZZ_VERSION}"
    )))
}

/// Installs cargo-fuzz when it is missing (`cargo xtask fuzz` needs nothing else).
pub(crate) fn cargo_fuzz(route: Route) -> Result {
    if let Outcome::Installed(what) = cargo_fuzz_step(route)? {
        println!("setup: cargo-fuzz: installed ({what})");
    }
    Ok(())
}

/// A stable fingerprint of `package-lock.json` (FNV-1a), to know when to reinstall.
fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The npm projects, each installed from its own lock file: the browser and
/// conformance tests, the real Sails app they compare with, and the minifier
/// of the script-tag bundle.
const NPM_PROJECTS: &[&str] = &["tests", "tests/sails-app", "client-wasm/js"];

fn npm_packages(route: Route) -> Result<Outcome> {
    let mut installed = Vec::new();
    for project in NPM_PROJECTS {
        let dir = toolchain::workspace_root().join(project);
        let lock_path = dir.join("package-lock.json");
        let lock = fs::read(&lock_path).map_err(|err| Error::io("read", &lock_path, err))?;
        let stamp_path = dir.join("node_modules/.xtask-lock-fingerprint");
        let wanted = fingerprint(&lock);
        if fs::read_to_string(&stamp_path).is_ok_and(|stamp| stamp == wanted) {
            continue;
        }
        let mut npm = toolchain::command(route, "npm");
        npm.current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        process::run(&mut npm, 15 * MINUTE)
            .map_err(|err| err.with_fix(format!("run by hand: npm ci --prefix {project}")))?;
        fs::write(&stamp_path, wanted).map_err(|err| Error::io("write", &stamp_path, err))?;
        installed.push(format!("{project}/node_modules"));
    }
    if installed.is_empty() {
        Ok(Outcome::Present(format!(
            "{} match their package-lock.json",
            NPM_PROJECTS.join(", ")
        )))
    } else {
        Ok(Outcome::Installed(format!(
            "{} from package-lock.json",
            installed.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_content_sensitive() {
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }

    #[test]
    fn a_star_in_a_provided_path_matches_any_directory() {
        let root = std::env::temp_dir().join(format!("xtask-setup-star-{}", std::process::id()));
        fs::create_dir_all(root.join("17/bin")).unwrap();
        fs::write(root.join("17/bin/postgres"), "").unwrap();
        let wanted = |rest: &str| format!("{}/*/{rest}", root.display());
        assert!(is_present(Route::Debian, &wanted("bin/postgres")));
        assert!(!is_present(Route::Debian, &wanted("bin/initdb")));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn reads_the_locked_wasm_bindgen_version() {
        let version = locked_wasm_bindgen_version().expect("Cargo.lock pins wasm-bindgen");
        assert_eq!(version.split('.').count(), 3, "{version}");
    }
}
