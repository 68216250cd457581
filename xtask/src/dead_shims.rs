//! Drops the closure shims wasm-bindgen leaves unused in the function table.
//!
//! js-sys describes every closure type its API accepts
//! (`Int8Array::for_each`, `Set::for_each`, …), and each description takes
//! the address of an `invoke` shim for that type, which puts the shim in the
//! function table. wasm-bindgen exports the shims of the closures the
//! client really makes (the JS glue calls them by their export) and removes
//! the descriptions, but the table still holds every shim, so no optimiser
//! can delete the unused ones: about 2.5 KB in the client.
//!
//! This nulls the table entries of shims that are not exported, so that the
//! following `wasm-opt` removes them. A call through a nulled entry traps;
//! nothing makes one, since the shims are only ever called by their export.
//! It finds the shims by the module's function names, so the module must
//! keep its `name` section until this has run.

use std::collections::BTreeSet;

use crate::error::{Error, Result};

use crate::wasm_binary::{
    self, CUSTOM_SECTION, ELEMENT_SECTION, EXPORT_SECTION, FUNCTION_KIND, IMPORT_SECTION, Reader,
    write_leb,
};

/// How wasm-bindgen's closure shims are named.
const SHIM_NAME: &str = "::convert::closures::_::invoke::<";

/// Element segment forms: function indices, or expressions (reference types).
const ACTIVE_FUNCTIONS: u64 = 0;
const ACTIVE_EXPRESSIONS: u64 = 4;

const I32_CONST: u8 = 0x41;
const GLOBAL_GET: u8 = 0x23;
const REF_NULL: u8 = 0xd0;
const REF_FUNC: u8 = 0xd2;
const FUNCREF: u8 = 0x70;
const END: u8 = 0x0b;

/// Returns `wasm` with the table entries of unexported closure shims nulled,
/// and how many there were.
pub(crate) fn drop_dead_shims(wasm: &[u8]) -> Result<(Vec<u8>, usize)> {
    let sections = wasm_binary::sections(wasm)?;
    let mut imported_functions = 0;
    let mut exported = BTreeSet::new();
    let mut shims = None;
    for &(id, body) in &sections {
        match id {
            IMPORT_SECTION => {
                imported_functions = wasm_binary::imports(body)?
                    .iter()
                    .filter(|import| import.kind == FUNCTION_KIND)
                    .count() as u64;
            }
            EXPORT_SECTION => {
                exported = wasm_binary::exports(body)?
                    .iter()
                    .filter(|export| export.kind == FUNCTION_KIND)
                    .map(|export| export.index)
                    .collect();
            }
            CUSTOM_SECTION => {
                if let Some(found) = shim_functions(body)? {
                    shims = Some(found);
                }
            }
            _ => {}
        }
    }
    let shims = shims.ok_or_else(|| {
        Error::Wasm("the module has no function names (keep them until this runs)".into())
    })?;
    let dead: BTreeSet<u64> = shims
        .into_iter()
        .filter(|index| *index >= imported_functions && !exported.contains(index))
        .collect();
    let mut nulled = 0;
    let mut rewritten = Vec::with_capacity(sections.len());
    for (id, body) in sections {
        let body = if id == ELEMENT_SECTION {
            null_entries(body, &dead, &mut nulled)?
        } else {
            body.to_vec()
        };
        rewritten.push((id, body));
    }
    Ok((wasm_binary::assemble(wasm, &rewritten), nulled))
}

/// The indices of the closure shims named in a `name` custom section
/// (`None` for any other custom section).
fn shim_functions(body: &[u8]) -> Result<Option<Vec<u64>>> {
    let mut reader = Reader::new(body);
    if reader.name()? != "name" {
        return Ok(None);
    }
    let mut shims = Vec::new();
    while !reader.is_done() {
        let subsection = reader.byte()?;
        let len = reader.leb()? as usize;
        let contents = reader.take(len)?;
        if subsection != 1 {
            continue;
        }
        let mut names = Reader::new(contents);
        for _ in 0..names.leb()? {
            let index = names.leb()?;
            if names.name()?.contains(SHIM_NAME) {
                shims.push(index);
            }
        }
    }
    Ok(Some(shims))
}

/// Rewrites the element segments that list a dead function as segments of
/// expressions, with `ref.null` in its place.
fn null_entries(body: &[u8], dead: &BTreeSet<u64>, nulled: &mut usize) -> Result<Vec<u8>> {
    let mut reader = Reader::new(body);
    let count = reader.leb()?;
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, count);
    for _ in 0..count {
        let start = reader.position();
        let form = reader.leb()?;
        let offset_start = reader.position();
        skip_constant_expression(&mut reader)?;
        let offset = &body[offset_start..reader.position()];
        let entries = (0..reader.leb()?)
            .map(|_| match form {
                ACTIVE_FUNCTIONS => reader.leb().map(Some),
                ACTIVE_EXPRESSIONS => reference(&mut reader),
                form => Err(Error::Wasm(format!(
                    "element segment form {form} is not handled (only those wasm-bindgen writes)"
                ))),
            })
            .collect::<Result<Vec<_>>>()?;
        let is_dead = |entry: &Option<u64>| entry.is_some_and(|index| dead.contains(&index));
        if !entries.iter().any(is_dead) {
            out.extend_from_slice(&body[start..reader.position()]);
            continue;
        }
        write_leb(&mut out, ACTIVE_EXPRESSIONS);
        out.extend_from_slice(offset);
        write_leb(&mut out, entries.len() as u64);
        for entry in entries {
            match entry.filter(|index| !dead.contains(index)) {
                Some(index) => {
                    out.push(REF_FUNC);
                    write_leb(&mut out, index);
                    out.push(END);
                }
                None => {
                    *nulled += usize::from(entry.is_some());
                    out.extend_from_slice(&[REF_NULL, FUNCREF, END]);
                }
            }
        }
    }
    reader.finish("element")?;
    Ok(out)
}

/// A `ref.func f` (`Some(f)`) or `ref.null func` (`None`) element.
fn reference(reader: &mut Reader<'_>) -> Result<Option<u64>> {
    let entry = match reader.byte()? {
        REF_FUNC => Some(reader.leb()?),
        REF_NULL => {
            reader.byte()?;
            None
        }
        op => {
            return Err(Error::Wasm(format!(
                "unexpected opcode {op:#x} in an element"
            )));
        }
    };
    match reader.byte()? {
        END => Ok(entry),
        op => Err(Error::Wasm(format!(
            "unexpected opcode {op:#x} after an element"
        ))),
    }
}

/// An `i32.const n` or `global.get g` offset, with its `end`.
fn skip_constant_expression(reader: &mut Reader<'_>) -> Result<()> {
    match reader.byte()? {
        I32_CONST | GLOBAL_GET => {
            reader.leb()?;
        }
        op => {
            return Err(Error::Wasm(format!(
                "unexpected opcode {op:#x} in an element offset"
            )));
        }
    }
    match reader.byte()? {
        END => Ok(()),
        op => Err(Error::Wasm(format!(
            "unexpected opcode {op:#x} after an element offset"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm_binary::write_name;

    fn section(out: &mut Vec<u8>, id: u8, body: &[u8]) {
        out.push(id);
        write_leb(out, body.len() as u64);
        out.extend_from_slice(body);
    }

    /// Function 0 is imported; 1 is ordinary, 2 an exported shim, 3 and 4
    /// unexported shims; the table lists 1, 2, 3 from offset 1, and 4 in a
    /// second segment.
    fn module(with_names: bool) -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let mut imports = vec![1];
        write_name(&mut imports, "m");
        write_name(&mut imports, "a");
        imports.extend_from_slice(&[FUNCTION_KIND, 0]);
        section(&mut wasm, IMPORT_SECTION, &imports);
        let mut exports = vec![1];
        write_name(&mut exports, "b");
        exports.extend_from_slice(&[FUNCTION_KIND, 2]);
        section(&mut wasm, EXPORT_SECTION, &exports);
        let elements = [
            &[2, 0, I32_CONST, 1, END, 3, 1, 2, 3][..],
            &[0, I32_CONST, 9, END, 1, 4][..],
        ]
        .concat();
        section(&mut wasm, ELEMENT_SECTION, &elements);
        if with_names {
            let mut names = Vec::new();
            write_leb(&mut names, 4);
            for (index, name) in [
                (1, "sails_io_wasm::client::Client::lost"),
                (
                    2,
                    "wasm_bindgen[0a]::convert::closures::_::invoke::<JsValue, true>",
                ),
                (
                    3,
                    "wasm_bindgen[0a]::convert::closures::_::invoke::<i8, u32, true>",
                ),
                (
                    4,
                    "wasm_bindgen[0a]::convert::closures::_::invoke::<u32, true>",
                ),
            ] {
                write_leb(&mut names, index);
                write_name(&mut names, name);
            }
            let mut custom = Vec::new();
            write_name(&mut custom, "name");
            custom.push(1);
            write_leb(&mut custom, names.len() as u64);
            custom.extend_from_slice(&names);
            section(&mut wasm, CUSTOM_SECTION, &custom);
        }
        wasm
    }

    #[test]
    fn unexported_shims_leave_the_table() {
        let (wasm, nulled) = drop_dead_shims(&module(true)).expect("rewrites");
        assert_eq!(nulled, 2);
        let sections = wasm_binary::sections(&wasm).expect("parses");
        let elements = sections
            .iter()
            .find(|(id, _)| *id == ELEMENT_SECTION)
            .map(|(_, body)| body.to_vec())
            .expect("element section");
        let null = [REF_NULL, FUNCREF, END];
        let expected = [
            &[2, 4, I32_CONST, 1, END, 3][..],
            &[REF_FUNC, 1, END, REF_FUNC, 2, END],
            &null,
            &[4, I32_CONST, 9, END, 1],
            &null,
        ]
        .concat();
        assert_eq!(elements, expected);
        let (again, nulled) = drop_dead_shims(&wasm).expect("reparses");
        assert_eq!((again, nulled), (wasm, 0));
    }

    #[test]
    fn a_module_without_names_is_an_error() {
        let err = drop_dead_shims(&module(false)).expect_err("needs names");
        assert!(err.to_string().contains("no function names"), "{err}");
    }
}
