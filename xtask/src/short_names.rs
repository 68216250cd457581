//! Shorter names for the script bundle's module and glue.
//!
//! wasm-bindgen names each JS import of the module after the function and a
//! 16-digit hash (`__wbg_addEventListener_5b9e…`), under the module name
//! `./<crate>_bg.js`, and its own exports `__wbindgen_malloc`, closure shims
//! named after their whole Rust path, …. Every such name appears twice, in the
//! module and in the glue, and hashes do not compress. This renames them all
//! (`a`, `b`, …, `ba`, …) in both files, with the import module's name. The
//! module's custom sections (function names, producers, target features) go:
//! nothing at run time reads them.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

use crate::wasm_binary::{
    self, CUSTOM_SECTION, EXPORT_SECTION, IMPORT_SECTION, write_leb, write_name,
};

/// Renames the generated imports of `wasm` whose module is `module` and its
/// generated exports, and every occurrence of the old names in `glue`; drops
/// custom sections. Returns both rewritten.
pub(crate) fn shorten(wasm: &[u8], glue: &str, module: &str) -> Result<(Vec<u8>, String)> {
    let (wasm, renames) = rewrite(wasm, module)?;
    if renames.is_empty() {
        return Err(Error::Wasm(format!(
            "no generated import or export names of module {module} to shorten: wasm-bindgen's \
             output is not what xtask/src/short_names.rs expects"
        )));
    }
    let mut glue = replace_identifiers(glue, &renames);
    let quoted = format!("\"{module}\"");
    if !glue.contains(&quoted) {
        return Err(Error::Wasm(format!(
            "the glue does not name the import module {quoted}"
        )));
    }
    glue = glue.replace(&quoted, &format!("\"{SHORT_MODULE}\""));
    Ok((wasm, glue))
}

/// The module name the imports get.
const SHORT_MODULE: &str = "m";
fn rewrite(wasm: &[u8], module: &str) -> Result<(Vec<u8>, BTreeMap<String, String>)> {
    let mut renames = BTreeMap::new();
    let mut sections = Vec::new();
    for (id, body) in wasm_binary::sections(wasm)? {
        let body = match id {
            CUSTOM_SECTION => continue,
            IMPORT_SECTION => rename_imports(body, module, &mut renames)?,
            EXPORT_SECTION => rename_exports(body, &mut renames)?,
            _ => body.to_vec(),
        };
        sections.push((id, body));
    }
    Ok((wasm_binary::assemble(wasm, &sections), renames))
}

/// Whether wasm-bindgen (or Rust's runtime) made up this import or export
/// name: `__wbg_…`, `__wbindgen_…`, `__externref_…`, or a closure shim named
/// after its Rust path (`wasm_bindgen_<hash>___convert__closures…`).
fn is_generated(field: &str) -> bool {
    field.starts_with("__") || field.starts_with("wasm_bindgen_")
}

/// The next short name, recorded as the new name of `old`.
fn rename(old: &str, renames: &mut BTreeMap<String, String>) -> String {
    let short = short_name(renames.len());
    renames.insert(old.to_owned(), short.clone());
    short
}

fn rename_imports(
    body: &[u8],
    module: &str,
    renames: &mut BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let imports = wasm_binary::imports(body)?;
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, imports.len() as u64);
    for import in imports {
        if import.module == module && is_generated(import.field) {
            write_name(&mut out, SHORT_MODULE);
            write_name(&mut out, &rename(import.field, renames));
        } else {
            write_name(&mut out, import.module);
            write_name(&mut out, import.field);
        }
        out.extend_from_slice(import.desc);
    }
    Ok(out)
}

fn rename_exports(body: &[u8], renames: &mut BTreeMap<String, String>) -> Result<Vec<u8>> {
    let exports = wasm_binary::exports(body)?;
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, exports.len() as u64);
    for export in exports {
        if is_generated(export.name) {
            write_name(&mut out, &rename(export.name, renames));
        } else {
            write_name(&mut out, export.name);
        }
        out.push(export.kind);
        write_leb(&mut out, export.index);
    }
    Ok(out)
}

/// The `index`-th of `a`…`z`, `ba`, `bb`, … (never a leading digit), with
/// the two-letter JS keywords `do`, `if` and `in` left out.
fn short_name(index: usize) -> String {
    (0..)
        .map(|mut n: usize| {
            let mut name = Vec::new();
            loop {
                name.push(char::from(b'a' + (n % 26) as u8));
                n /= 26;
                if n == 0 {
                    break;
                }
            }
            name.iter().rev().collect::<String>()
        })
        .filter(|name| !matches!(name.as_str(), "do" | "if" | "in"))
        .nth(index)
        .unwrap_or_default()
}

/// Replaces whole identifiers only (`foo` in `x.foo(`, not in `foobar`).
fn replace_identifiers(source: &str, renames: &BTreeMap<String, String>) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find(|c: char| is_ident(c)) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_ident(c)).unwrap_or(tail.len());
        let word = &tail[..end];
        out.push_str(renames.get(word).map_or(word, String::as_str));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing `env.f`, `./x_bg.js.__wbg_long_0123` (a function)
    /// and `./x_bg.js.__wbindgen_mem` (a memory with a maximum), exporting
    /// `connect` and `__wbindgen_export3`, with a `name` custom section.
    fn module() -> Vec<u8> {
        let mut imports = Vec::new();
        write_leb(&mut imports, 3);
        write_name(&mut imports, "env");
        write_name(&mut imports, "f");
        imports.extend_from_slice(&[0, 0]);
        write_name(&mut imports, "./x_bg.js");
        write_name(&mut imports, "__wbg_long_0123");
        imports.extend_from_slice(&[0, 1]);
        write_name(&mut imports, "./x_bg.js");
        write_name(&mut imports, "__wbindgen_mem");
        imports.extend_from_slice(&[2, 1, 1, 2]);
        let mut exports = Vec::new();
        write_leb(&mut exports, 2);
        write_name(&mut exports, "connect");
        exports.extend_from_slice(&[0, 1]);
        write_name(&mut exports, "__wbindgen_export3");
        exports.extend_from_slice(&[0, 200, 1]);
        let mut custom = Vec::new();
        write_name(&mut custom, "name");
        custom.extend_from_slice(b"function names");
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        for (id, body) in [
            (IMPORT_SECTION, imports),
            (EXPORT_SECTION, exports),
            (CUSTOM_SECTION, custom),
        ] {
            wasm.push(id);
            write_leb(&mut wasm, body.len() as u64);
            wasm.extend_from_slice(&body);
        }
        wasm
    }

    #[test]
    fn generated_names_are_shortened_in_both_files() {
        let glue = "const i = {__wbg_long_0123: function() {}, __wbindgen_mem: m};\nreturn {\"./x_bg.js\": i};\nx.__wbg_long_01234;\nw.__wbindgen_export3(w.connect());";
        let (wasm, glue) = shorten(&module(), glue, "./x_bg.js").expect("rewrites");
        assert_eq!(
            glue,
            "const i = {a: function() {}, b: m};\nreturn {\"m\": i};\nx.__wbg_long_01234;\nw.c(w.connect());"
        );
        let text = String::from_utf8_lossy(&wasm).into_owned();
        assert!(text.contains("env") && text.contains("connect"));
        for gone in ["__wbg_long", "x_bg", "__wbindgen", "function names"] {
            assert!(!text.contains(gone), "{gone} is still in the module");
        }
        // Shorter by: "./x_bg.js" twice (8 bytes each), the three generated
        // names (14, 13, 17), and the custom section (21 bytes with its header).
        assert_eq!(wasm.len(), module().len() - 8 * 2 - 14 - 13 - 17 - 21);
        let (again, renames) = rewrite(&wasm, "m").expect("reparses");
        assert_eq!(again, wasm);
        assert!(renames.is_empty());
    }

    #[test]
    fn short_names_skip_keywords() {
        let names: Vec<String> = (0..120).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[26], "ba");
        assert!(!names.iter().any(|n| n == "do" || n == "if" || n == "in"));
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn a_broken_module_is_an_error() {
        assert!(shorten(b"\0asm\x01\0\0\0\x02\x05\x01", "", "m").is_err());
        assert!(shorten(b"nope", "", "m").is_err());
    }
}
