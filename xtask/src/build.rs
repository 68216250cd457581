//! `cargo xtask build`: the browser client, as the one-script-tag bundle in
//! `www/js/` and as the npm package in `client-wasm/pkg/`.

use std::{fs, path::Path, process::Command, time::Duration};

use crate::{
    dead_shims,
    error::{Error, Result},
    packages::{CLIENT, CLIENT_ARTIFACT},
    process, short_names,
    toolchain::{self, Route, WASM_TARGET},
    wasm_binary,
};

const LIMIT: Duration = Duration::from_secs(30 * 60);

/// wasm features rustc emits by default, named for Debian's wasm-opt.
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-multivalue",
];

/// Builds both client forms.
pub(crate) fn run(route: Route) -> Result {
    script_bundle(route)?;
    npm_package(route)
}

/// Builds the client for wasm32 with the size profile and optimises it with
/// `wasm-opt`, *before* wasm-bindgen: binaryen 108 (Debian's) rewrites the
/// export of wasm-bindgen's externref table to the wrong table, which breaks
/// the module at load time. Returns the optimised module (same file stem).
///
/// When the toolchain has the standard library's source, std is rebuilt with
/// the `immediate-abort` panic strategy: a panic traps at once, so no panic
/// message formatting is linked in (about a fifth of the module). Tests build
/// without it, and keep their panic messages.
fn optimized_wasm(route: Route) -> Result<std::path::PathBuf> {
    let mut cargo = toolchain::command(route, "cargo");
    cargo.args([
        "build",
        "--package",
        CLIENT,
        "--lib",
        "--target",
        WASM_TARGET,
    ]);
    cargo.args(["--profile", "wasm-release"]);
    if toolchain::has_std_source(route) {
        cargo
            .args(["-Z", "build-std=std,panic_abort"])
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none",
            );
    } else {
        println!(
            "build: no standard library source (rustup: `rustup component add rust-src`); \
             the client keeps std's panic machinery and comes out larger"
        );
    }
    process::run(&mut cargo, LIMIT)?;

    let target = toolchain::target_dir();
    let wasm = target.join(format!("{WASM_TARGET}/wasm-release/{CLIENT_ARTIFACT}.wasm"));
    let optimized_dir = target.join("client-bundle/optimized");
    fs::create_dir_all(&optimized_dir).map_err(|err| Error::io("create", &optimized_dir, err))?;
    let optimized = optimized_dir.join(format!("{CLIENT_ARTIFACT}.wasm"));
    let mut wasm_opt = toolchain::command(route, "wasm-opt");
    wasm_opt
        // `-g` keeps the function names, which `dead_shims` reads.
        .args(["-Oz", "-g", "--strip-producers"])
        .args(WASM_OPT_FEATURES)
        .arg(&wasm)
        .arg("-o")
        .arg(&optimized);
    process::run(&mut wasm_opt, LIMIT)?;
    Ok(optimized)
}

/// `www/js/sails.io.js` (glue + loader in one classic script) and
/// `www/js/sails.io_bg.wasm`, optimised for size.
pub(crate) fn script_bundle(route: Route) -> Result {
    let root = toolchain::workspace_root();
    let optimized = optimized_wasm(route)?;
    let out_dir = toolchain::target_dir().join("client-bundle/script");
    let mut bindgen = toolchain::command(route, "wasm-bindgen");
    bindgen
        .arg(&optimized)
        .args(["--target", "no-modules", "--no-typescript", "--keep-debug"])
        .arg("--out-dir")
        .arg(&out_dir);
    process::run(&mut bindgen, LIMIT)?;

    let wasm = out_dir.join(format!("{CLIENT_ARTIFACT}_bg.wasm"));
    optimize_bound(route, &wasm)?;
    let wasm = fs::read(&wasm).map_err(|err| Error::io("read", &wasm, err))?;
    let glue = read(&out_dir.join(format!("{CLIENT_ARTIFACT}.js")))?;
    let (wasm, glue) = short_names::shorten(&wasm, &glue, &format!("./{CLIENT_ARTIFACT}_bg.js"))?;
    let www_js = root.join("www/js");
    fs::create_dir_all(&www_js).map_err(|err| Error::io("create", &www_js, err))?;
    write(&www_js.join("sails.io_bg.wasm"), wasm)?;

    let loader = read(&root.join("client-wasm/js/loader.js"))?;
    let bundle = format!(
        "(function () {{\n\"use strict\";\n{}\n{}\n}})();\n",
        compact_js(&glue),
        compact_js(&loader)
    );
    let bundle_path = www_js.join("sails.io.js");
    write(&bundle_path, bundle)?;
    minify(route, &bundle_path)?;
    for name in CLIENT_FILES {
        let path = www_js.join(name);
        write(&gzipped(&path), gzip(route, &path)?)?;
    }
    println!(
        "build: www/js/sails.io.js and www/js/sails.io_bg.wasm (and gzipped, .gz, \
         for servers that send precompressed files)"
    );
    size_report().map(drop)
}

/// Where `cargo xtask setup` installs binaryen's current release
/// (`client-wasm/js/package.json`).
const BINARYEN_WASM_OPT: &str = "client-wasm/js/node_modules/binaryen/bin/wasm-opt";

/// Finishes the module wasm-bindgen wrote, in place: drops the closure shims
/// it left unused (`dead_shims`), then runs a second `wasm-opt -Oz` with
/// binaryen's current release, which finds about 1 KB (gzip) more than
/// Debian's and strips the function names. (Run *before* wasm-bindgen,
/// current releases remove the closures' code, which wasm-bindgen's
/// descriptors still need.) Without it, the names are dropped here and the
/// unused shims stay, with a note.
fn optimize_bound(route: Route, wasm: &Path) -> Result {
    let module = fs::read(wasm).map_err(|err| Error::io("read", wasm, err))?;
    let (module, nulled) = dead_shims::drop_dead_shims(&module)?;
    if nulled == 0 {
        return Err(Error::Wasm(format!(
            "dead_shims found no unused closure shims: wasm-bindgen {}'s output is not what \
             xtask/src/dead_shims.rs expects",
            crate::setup::locked_wasm_bindgen_version()?
        )));
    }
    println!("build: {nulled} unused closure shims dropped from the function table");
    let wasm_opt = toolchain::workspace_root().join(BINARYEN_WASM_OPT);
    if !wasm_opt.is_file() {
        println!(
            "build: {BINARYEN_WASM_OPT} is missing (cargo xtask setup installs it); \
             the module skips its second optimisation"
        );
        let module = wasm_binary::without_custom_sections(&module)?;
        return write(wasm, module);
    }
    write(wasm, module)?;
    let mut node = toolchain::command(route, "node");
    node.arg(&wasm_opt)
        .args(["-Oz", "--converge", "--strip-debug", "--strip-producers"])
        .args(WASM_OPT_FEATURES)
        .arg(wasm)
        .arg("-o")
        .arg(wasm);
    process::run(&mut node, LIMIT)
}

/// Where `cargo xtask setup` installs terser (`client-wasm/js/package.json`).
const TERSER: &str = "client-wasm/js/node_modules/terser/bin/terser";

/// Minifies the bundle in place with terser (compress and mangle; property
/// names stay, so the import object and the page-facing API are untouched).
/// Without terser the bundle stays as it is, a few KB larger, with a note.
fn minify(route: Route, bundle: &Path) -> Result {
    let terser = toolchain::workspace_root().join(TERSER);
    if !terser.is_file() {
        println!(
            "build: {TERSER} is missing (cargo xtask setup installs it); \
             www/js/sails.io.js is left unminified"
        );
        return Ok(());
    }
    let mut node = toolchain::command(route, "node");
    node.arg(&terser)
        .arg(bundle)
        .args(["--compress", "--mangle", "--output"])
        .arg(bundle);
    process::run(&mut node, LIMIT)
}

/// What a page downloads for the client, in `www/js/`.
const CLIENT_FILES: [&str; 2] = ["sails.io.js", "sails.io_bg.wasm"];

/// What sails.io.js-dist 1.2.1 (minified) weighs gzipped: the size to beat.
const SAILS_IO_JS_DIST_GZIP: usize = 23_017;

/// Where the build writes `path` gzipped: `path` + `.gz`.
fn gzipped(path: &Path) -> std::path::PathBuf {
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    gz.into()
}

/// The committed budget of the client's size (the gzipped script and wasm together).
const SIZE_BUDGET: &str = "client-wasm/size-budget.txt";
/// How far over its budget the client may grow before the size check fails.
const SIZE_SLACK_PERCENT: usize = 2;

/// The budget in `SIZE_BUDGET`: its first number (digits, `,` or `_` allowed).
fn parse_budget(text: &str) -> Result<usize> {
    let bad = |problem: String| Error::BadFile {
        file: SIZE_BUDGET,
        problem,
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .ok_or_else(|| bad("it holds no budget".into()))?;
    let digits: String = line.chars().filter(|c| !matches!(c, ',' | '_')).collect();
    digits
        .parse()
        .map_err(|_| bad(format!("`{line}` is not a number of bytes")))
}

/// Whether `total` gzipped bytes keep within `budget` and its slack.
fn within_budget(total: usize, budget: usize) -> Result {
    let limit = budget + budget * SIZE_SLACK_PERCENT / 100;
    if total > limit {
        return Err(Error::Check(format!(
            "the client is {total} bytes gzipped, over its budget of {budget} \
             (+{SIZE_SLACK_PERCENT}%: {limit}) in {SIZE_BUDGET}"
        )));
    }
    Ok(())
}

/// The size check of `cargo xtask test`: the built client against its budget.
pub(crate) fn check_size_budget() -> Result {
    let budget = parse_budget(&read(&toolchain::workspace_root().join(SIZE_BUDGET))?)?;
    let total = size_report()?;
    within_budget(total, budget)?;
    println!("size: within the budget of {budget} bytes (+{SIZE_SLACK_PERCENT}%)");
    Ok(())
}

/// Prints what a page downloads for the client (`www/js/sails.io.js` and
/// `www/js/sails.io_bg.wasm`), raw and `gzip -9` (the `.gz` copies the build
/// wrote), against sails.io.js-dist; returns the gzipped total.
pub(crate) fn size_report() -> Result<usize> {
    let www_js = toolchain::workspace_root().join("www/js");
    let mut total = (0, 0);
    println!("size: file                raw     gzip -9");
    for name in CLIENT_FILES {
        let path = www_js.join(name);
        let size = |path: &Path| {
            fs::metadata(path)
                .map(|meta| meta.len() as usize)
                .map_err(|err| Error::io("read", path, err).with_fix("run `cargo xtask build`"))
        };
        let raw = size(&path)?;
        let gzip = size(&gzipped(&path))?;
        println!("size: {name:<18} {raw:>7} {gzip:>9}");
        total = (total.0 + raw, total.1 + gzip);
    }
    println!("size: {:<18} {:>7} {:>9}", "total", total.0, total.1);
    println!(
        "size: sails.io.js-dist 1.2.1 (minified) {:>9} gzip -9 ({})",
        SAILS_IO_JS_DIST_GZIP,
        if total.1 < SAILS_IO_JS_DIST_GZIP {
            "smaller"
        } else {
            "LARGER"
        }
    );
    Ok(total.1)
}

/// `gzip -9` of a file (without its name or time, so builds are reproducible).
fn gzip(route: Route, path: &Path) -> Result<Vec<u8>> {
    let mut gzip: Command = toolchain::command(route, "gzip");
    gzip.args(["-9", "-c", "-n"]).arg(path);
    let command = process::describe(&gzip);
    let out = gzip.output().map_err(|source| Error::Spawn {
        command: command.clone(),
        source,
    })?;
    if !out.status.success() {
        return Err(Error::Failed {
            command,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(out.stdout)
}

/// Drops comment lines and indentation from generated or hand-written JS
/// that has no multi-line string literals (the wasm-bindgen glue, the loader).
fn compact_js(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_block_comment = false;
    for line in source.lines() {
        let line = line.trim();
        if in_block_comment {
            in_block_comment = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block_comment = !line.contains("*/");
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The npm package (`client-wasm/pkg/`, with TypeScript types): wasm-pack
/// makes the package (package.json, README); its module and glue are then
/// replaced by the size-optimised build (wasm-pack has no custom profile, and
/// its own wasm-opt run would hit the binaryen bug above). Since only its
/// package files are kept, wasm-pack builds with the dev profile, which the
/// wasm tests have already built (a release build would be one more build
/// of the client and its dependencies, thrown away).
pub(crate) fn npm_package(route: Route) -> Result {
    let mut wasm_pack = toolchain::command(route, "wasm-pack");
    wasm_pack.args(["build", "client-wasm", "--dev", "--target", "bundler"]);
    process::run(&mut wasm_pack, LIMIT)?;
    let optimized = optimized_wasm(route)?;
    let mut bindgen = toolchain::command(route, "wasm-bindgen");
    bindgen
        .arg(&optimized)
        .args(["--target", "bundler", "--keep-debug", "--out-dir"])
        .arg(toolchain::workspace_root().join("client-wasm/pkg"));
    process::run(&mut bindgen, LIMIT)?;
    optimize_bound(
        route,
        &toolchain::workspace_root().join(format!("client-wasm/pkg/{CLIENT_ARTIFACT}_bg.wasm")),
    )?;
    println!("build: client-wasm/pkg (npm package)");
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|err| Error::io("read", path, err))
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result {
    fs::write(path, contents).map_err(|err| Error::io("write", path, err))
}

#[cfg(test)]
mod tests {
    use super::{compact_js, parse_budget, within_budget};

    #[test]
    fn the_budget_is_the_first_number_of_its_file() {
        assert_eq!(parse_budget("# gzip bytes\n26,537\n").unwrap(), 26_537);
        assert_eq!(parse_budget("26537").unwrap(), 26_537);
        assert!(parse_budget("# nothing\n").is_err());
        assert!(parse_budget("about 26 KB").is_err());
    }

    #[test]
    fn the_client_may_grow_two_percent_over_its_budget() {
        assert!(within_budget(26_537, 26_537).is_ok());
        assert!(within_budget(27_067, 26_537).is_ok());
        let over = within_budget(27_068, 26_537).unwrap_err().to_string();
        assert!(over.contains("27068") && over.contains("26537"), "{over}");
    }

    #[test]
    fn compact_js_keeps_code_and_drops_comments() {
        let source = "/**\n * Doc.\n */\nfunction a() {\n    // note\n    return '//x'; /* tail */\n}\n\n/* one */\nvar b = 1;\n";
        assert_eq!(
            compact_js(source),
            "function a() {\nreturn '//x'; /* tail */\n}\nvar b = 1;\n"
        );
    }
}
