//! Just enough of the WebAssembly binary format to rewrite the client's
//! module after wasm-bindgen: sections, LEB128 numbers, names.

use crate::error::{Error, Result};

pub(crate) const CUSTOM_SECTION: u8 = 0;
pub(crate) const IMPORT_SECTION: u8 = 2;
pub(crate) const EXPORT_SECTION: u8 = 7;
pub(crate) const ELEMENT_SECTION: u8 = 9;

/// The import and export kind of a function.
pub(crate) const FUNCTION_KIND: u8 = 0;

/// The module's sections, in order, as (id, body).
pub(crate) fn sections(wasm: &[u8]) -> Result<Vec<(u8, &[u8])>> {
    let header = wasm
        .get(..8)
        .ok_or_else(|| Error::Wasm("not a wasm module".into()))?;
    if &header[..4] != b"\0asm" {
        return Err(Error::Wasm("not a wasm module".into()));
    }
    let mut reader = Reader { bytes: wasm, at: 8 };
    let mut sections = Vec::new();
    while !reader.is_done() {
        let id = reader.byte()?;
        let len = reader.leb()? as usize;
        sections.push((id, reader.take(len)?));
    }
    Ok(sections)
}

/// A module with `original`'s header and these sections.
pub(crate) fn assemble(original: &[u8], sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = original[..8].to_vec();
    for (id, body) in sections {
        out.push(*id);
        write_leb(&mut out, body.len() as u64);
        out.extend_from_slice(body);
    }
    out
}

/// `wasm` without its custom sections (names, producers, target features):
/// nothing at run time reads them.
pub(crate) fn without_custom_sections(wasm: &[u8]) -> Result<Vec<u8>> {
    let kept: Vec<(u8, Vec<u8>)> = sections(wasm)?
        .into_iter()
        .filter(|(id, _)| *id != CUSTOM_SECTION)
        .map(|(id, body)| (id, body.to_vec()))
        .collect();
    Ok(assemble(wasm, &kept))
}

/// One entry of the import section.
pub(crate) struct Import<'a> {
    pub(crate) module: &'a str,
    pub(crate) field: &'a str,
    /// The kind (function, table, memory, global, tag).
    pub(crate) kind: u8,
    /// The kind and type, as encoded.
    pub(crate) desc: &'a [u8],
}

/// The entries of an import section.
pub(crate) fn imports(body: &[u8]) -> Result<Vec<Import<'_>>> {
    let mut reader = Reader::new(body);
    let entries = (0..reader.leb()?)
        .map(|_| {
            let module = reader.name()?;
            let field = reader.name()?;
            let start = reader.position();
            let kind = reader.skip_import_desc()?;
            Ok(Import {
                module,
                field,
                kind,
                desc: &body[start..reader.position()],
            })
        })
        .collect::<Result<Vec<_>>>()?;
    reader.finish("import")?;
    Ok(entries)
}

/// One entry of the export section.
pub(crate) struct Export<'a> {
    pub(crate) name: &'a str,
    pub(crate) kind: u8,
    pub(crate) index: u64,
}

/// The entries of an export section.
pub(crate) fn exports(body: &[u8]) -> Result<Vec<Export<'_>>> {
    let mut reader = Reader::new(body);
    let entries = (0..reader.leb()?)
        .map(|_| {
            Ok(Export {
                name: reader.name()?,
                kind: reader.byte()?,
                index: reader.leb()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    reader.finish("export")?;
    Ok(entries)
}

/// Reads a section's contents front to back.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// How far it has read.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    pub(crate) fn is_done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    /// An error unless everything in the `section` was read.
    pub(crate) fn finish(&self, section: &str) -> Result<()> {
        if self.is_done() {
            Ok(())
        } else {
            Err(Error::Wasm(format!(
                "trailing bytes in the {section} section"
            )))
        }
    }

    pub(crate) fn byte(&mut self) -> Result<u8> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| Error::Wasm("unexpected end of the module".into()))?;
        self.at += 1;
        Ok(byte)
    }

    pub(crate) fn leb(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Error::Wasm("LEB128 number too long".into()))
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .ok_or_else(|| Error::Wasm("section too long".into()))?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| Error::Wasm("section runs past the end".into()))?;
        self.at = end;
        Ok(slice)
    }

    pub(crate) fn name(&mut self) -> Result<&'a str> {
        let len = self.leb()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| Error::Wasm("a name is not UTF-8".into()))
    }

    fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }

    /// Steps over an import's kind and type; returns the kind.
    pub(crate) fn skip_import_desc(&mut self) -> Result<u8> {
        let kind = self.byte()?;
        match kind {
            FUNCTION_KIND => self.leb().map(drop),
            1 => {
                self.byte()?;
                self.limits()
            }
            2 => self.limits(),
            3 => {
                self.byte()?;
                self.byte().map(drop)
            }
            4 => {
                self.byte()?;
                self.leb().map(drop)
            }
            kind => Err(Error::Wasm(format!("unknown import kind {kind}"))),
        }?;
        Ok(kind)
    }
}

pub(crate) fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(crate) fn write_name(out: &mut Vec<u8>, name: &str) {
    write_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}
