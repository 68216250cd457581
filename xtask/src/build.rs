//! `cargo xtask build`: the browser client, as the script-tag bundles in
//! `www/js/` and as the npm package in `client-wasm/pkg/`.

use std::{fs, path::Path, process::Command, time::Duration};

use base64::{Engine, prelude::BASE64_STANDARD};

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

/// The script-tag client in `www/js/`, in two forms, optimised for size:
/// `sails.io.js`, one file with the module inside it (base64), which a page
/// written for sails.io.js takes as it is, with no second request; and
/// `sails.io.lean.js` with `sails.io.lean_bg.wasm` beside it, fewer bytes
/// for a page that asks for the module up front.
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
    write(&www_js.join(LEAN_WASM), &wasm)?;

    let loader = read(&root.join("client-wasm/js/loader.js"))?;
    let script = |inline_wasm: &str| {
        format!(
            "(function () {{\n\"use strict\";\nvar inlineWasm = {inline_wasm};\n{}\n{}\n}})();\n",
            compact_js(&glue),
            compact_js(&loader)
        )
    };
    let lean = www_js.join(LEAN_SCRIPT);
    write(&lean, script("null"))?;
    let one_file = www_js.join(ONE_FILE_SCRIPT);
    write(
        &one_file,
        script(&format!("\"{}\"", BASE64_STANDARD.encode(&wasm))),
    )?;
    for bundle in [&lean, &one_file] {
        minify(route, bundle)?;
    }
    for name in [ONE_FILE_SCRIPT, LEAN_SCRIPT, LEAN_WASM] {
        let path = www_js.join(name);
        write(&gzipped(&path), gzip(route, &path)?)?;
    }
    println!(
        "build: www/js/{ONE_FILE_SCRIPT} (one file), www/js/{LEAN_SCRIPT} and \
         www/js/{LEAN_WASM} (and each gzipped, .gz, for servers that send \
         precompressed files)"
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
             {} is left unminified",
            bundle.display()
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

/// The one-file client, in `www/js/`: all a page downloads for it.
const ONE_FILE_SCRIPT: &str = "sails.io.js";
/// The lean client's script and module, in `www/js/`.
const LEAN_SCRIPT: &str = "sails.io.lean.js";
const LEAN_WASM: &str = "sails.io.lean_bg.wasm";

/// What sails.io.js-dist 1.2.1 (minified) weighs gzipped: the size to beat.
const SAILS_IO_JS_DIST_GZIP: usize = 23_017;
/// What sails.io.js-dist 1.2.1 weighs gzipped as shipped (not minified).
const SAILS_IO_JS_DIST_SHIPPED_GZIP: usize = 36_861;

/// Where the build writes `path` gzipped: `path` + `.gz`.
fn gzipped(path: &Path) -> std::path::PathBuf {
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    gz.into()
}

/// The committed budget of the client's size (the lean script and module
/// together, gzipped).
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

/// Prints what a page downloads for the client, raw and `gzip -9` (the
/// `.gz` copies the build wrote): the one-file script, and the lean script
/// and module together, against sails.io.js-dist. Returns the lean pair's
/// gzipped total, the measure of the client's code that the budget holds.
pub(crate) fn size_report() -> Result<usize> {
    let www_js = toolchain::workspace_root().join("www/js");
    let sizes = |name: &str| -> Result<(usize, usize)> {
        let size = |path: &Path| {
            fs::metadata(path)
                .map(|meta| meta.len() as usize)
                .map_err(|err| Error::io("read", path, err).with_fix("run `cargo xtask build`"))
        };
        let path = www_js.join(name);
        Ok((size(&path)?, size(&gzipped(&path))?))
    };
    println!("size: file                    raw     gzip -9");
    let one_file = sizes(ONE_FILE_SCRIPT)?;
    println!(
        "size: {ONE_FILE_SCRIPT:<22} {:>7} {:>9}",
        one_file.0, one_file.1
    );
    let (script, wasm) = (sizes(LEAN_SCRIPT)?, sizes(LEAN_WASM)?);
    let lean = (script.0 + wasm.0, script.1 + wasm.1);
    println!("size: {LEAN_SCRIPT:<22} {:>7} {:>9}", script.0, script.1);
    println!("size: {LEAN_WASM:<22} {:>7} {:>9}", wasm.0, wasm.1);
    println!("size: {:<22} {:>7} {:>9}", "lean, together", lean.0, lean.1);
    let compared = |ours: usize, theirs: usize| if ours < theirs { "smaller" } else { "LARGER" };
    println!(
        "size: sails.io.js-dist 1.2.1, gzip -9: minified {SAILS_IO_JS_DIST_GZIP} (the lean \
         pair: {}), as shipped {SAILS_IO_JS_DIST_SHIPPED_GZIP} (the one file: {})",
        compared(lean.1, SAILS_IO_JS_DIST_GZIP),
        compared(one_file.1, SAILS_IO_JS_DIST_SHIPPED_GZIP),
    );
    Ok(lean.1)
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
