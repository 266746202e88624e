//! Canonical JSON of any `Serialize` value, written straight into a byte buffer: keys sorted
//! at every depth, the keys of a given list dropped at every depth (their values are never
//! serialised), compact. The bytes are exactly those of `serde_json::to_value`, then every map
//! rebuilt with its keys sorted and the dropped keys removed, then `Value::to_string`; but no
//! `Value`, map or `String` is built on the way, which is what made the stale-plan digests
//! (`digest`) cost most of a plan.
//!
//! How a map is sorted without being rebuilt: its entries (`"key":value`) are written one
//! after the other as they come, each recorded as a byte range (its key, unescaped, is kept in
//! a side buffer); at the map's end, when the keys did not come sorted, the body is moved aside
//! and written back in key order. A value is itself canonical by the time its map ends, so
//! every depth is sorted. The buffers are reused from one value to the next.

use serde::ser::{self, Serialize};
use std::fmt;

/// Reusable buffers; `write` leaves the canonical JSON of its value in `out()`.
#[derive(Default)]
pub struct Canonical {
    out: Vec<u8>,
    /// The keys of the maps being written, unescaped, outermost first.
    keys: Vec<u8>,
    /// The entries of the maps being written, outermost first.
    entries: Vec<Entry>,
    /// Where a map's body goes while it is written back in key order.
    scratch: Vec<u8>,
    /// Keys dropped at every depth.
    drop: &'static [&'static str],
}

/// One entry of a map being written: its key in `keys` (and the key's first eight bytes, which
/// order nearly all keys without looking further), the entry in `out`.
#[derive(Clone, Copy)]
struct Entry {
    prefix: u64,
    key: (usize, usize),
    value: (usize, usize),
}

/// The first eight bytes of `key`, zero-padded, as a number that orders as they do.
fn prefix(key: &[u8]) -> u64 {
    let mut bytes = [0; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(bytes)
}

/// A value `serde_json::to_value` would refuse (a map key that is not a string, number, bool
/// or unit variant; an integer beyond 64 bits). The digest then falls back to `null`, as it
/// did through `to_value`.
#[derive(Debug)]
pub struct Unsupported(String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Unsupported(msg.to_string())
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

impl Canonical {
    /// Buffers that drop the keys `drop` at every depth.
    pub fn dropping(drop: &'static [&'static str]) -> Self {
        Canonical {
            drop,
            ..Canonical::default()
        }
    }

    /// Writes the canonical JSON of `value` (`null` when `to_value` would have failed) and
    /// returns it.
    pub fn write(&mut self, value: &impl Serialize) -> &[u8] {
        self.out.clear();
        self.keys.clear();
        self.entries.clear();
        if value.serialize(&mut *self).is_err() {
            self.out.clear();
            self.out.extend_from_slice(b"null");
        }
        &self.out
    }

    fn dropped(&self, key: &[u8]) -> bool {
        self.drop.iter().any(|d| d.as_bytes() == key)
    }

    fn string(&mut self, s: &str) {
        write_string(&mut self.out, s);
    }

    fn number(&mut self, n: impl Serialize) {
        serde_json::to_writer(&mut self.out, &n).expect("writing to a Vec does not fail");
    }

    fn map(&mut self, skip: bool) -> Map<'_> {
        if !skip {
            self.out.push(b'{');
        }
        Map {
            from_entry: self.entries.len(),
            from_key: self.keys.len(),
            from_out: self.out.len(),
            pending: None,
            skip,
            c: self,
        }
    }

    fn seq(&mut self, skip: bool) -> Seq<'_> {
        if !skip {
            self.out.push(b'[');
        }
        Seq {
            c: self,
            first: true,
            skip,
        }
    }

    /// `{"variant":` before the value of an enum variant that is not a unit; `{` alone (and
    /// `true`: skip the value) when `variant` is dropped.
    fn open_variant(&mut self, variant: &str) -> bool {
        self.out.push(b'{');
        if self.dropped(variant.as_bytes()) {
            return true;
        }
        self.string(variant);
        self.out.push(b':');
        false
    }
}

/// A key's range in `keys` and where its entry starts in `out`.
type Pending = ((usize, usize), usize);

/// A map or struct being written: `{` then its entries (`"key":value`) as they come, comma
/// separated, each recorded in `entries`; `finish` puts them in key order.
pub struct Map<'a> {
    c: &'a mut Canonical,
    from_entry: usize,
    from_key: usize,
    /// Where the first entry starts (after the `{`).
    from_out: usize,
    /// The key of the value to come and where its entry starts, `None` when it is dropped.
    pending: Option<Pending>,
    /// The whole map belongs to a dropped variant: write nothing.
    skip: bool,
}

impl<'a> Map<'a> {
    /// Starts the entry of `key`: the key into `keys` (for sorting), `"key":` into `out`.
    /// Returns the key's range in `keys` and where the entry starts, or `None` (and writes
    /// nothing) when the key is dropped.
    fn begin(&mut self, key: &str) -> Option<Pending> {
        if self.c.dropped(key.as_bytes()) {
            return None;
        }
        let Canonical { out, keys, .. } = &mut *self.c;
        let from = keys.len();
        keys.extend_from_slice(key.as_bytes());
        if out.len() > self.from_out {
            out.push(b',');
        }
        let start = out.len();
        write_string(out, key);
        out.push(b':');
        Some(((from, keys.len()), start))
    }

    fn value<T: Serialize + ?Sized>(
        &mut self,
        key: (usize, usize),
        start: usize,
        value: &T,
    ) -> Result {
        value.serialize(&mut *self.c)?;
        let end = self.c.out.len();
        let prefix = prefix(&self.c.keys[key.0..key.1]);
        self.c.entries.push(Entry {
            prefix,
            key,
            value: (start, end),
        });
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        if self.skip {
            return Ok(());
        }
        match self.begin(key) {
            Some((key, start)) => self.value(key, start, value),
            None => Ok(()),
        }
    }

    /// Puts the map's entries in key order, when they did not come in it (the last of equal
    /// keys wins, as in a map rebuilt from them), closes it and hands the buffers back.
    fn finish(self) -> Result<&'a mut Canonical> {
        let c = self.c;
        if self.skip {
            return Ok(c);
        }
        let Canonical {
            out,
            keys,
            entries,
            scratch,
            ..
        } = &mut *c;
        let key = |e: &Entry| &keys[e.key.0..e.key.1];
        // Byte order of the keys; equal prefixes (a rare tie) are settled by the whole keys.
        let order = |a: &Entry, b: &Entry| a.prefix.cmp(&b.prefix).then_with(|| key(a).cmp(key(b)));
        let mine = &mut entries[self.from_entry..];
        if !mine.windows(2).all(|w| order(&w[0], &w[1]).is_lt()) {
            // Stable: of equal keys, the later stays last.
            mine.sort_by(order);
            scratch.clear();
            scratch.extend_from_slice(&out[self.from_out..]);
            out.truncate(self.from_out);
            for (i, entry) in mine.iter().enumerate() {
                if mine
                    .get(i + 1)
                    .is_some_and(|next| next.prefix == entry.prefix && key(next) == key(entry))
                {
                    continue;
                }
                if out.len() > self.from_out {
                    out.push(b',');
                }
                let (start, end) = (entry.value.0 - self.from_out, entry.value.1 - self.from_out);
                out.extend_from_slice(&scratch[start..end]);
            }
        }
        out.push(b'}');
        entries.truncate(self.from_entry);
        keys.truncate(self.from_key);
        Ok(c)
    }
}

/// `s` as a JSON string, escaped as serde_json escapes it (which only the rare string with a
/// quote, a backslash or a control character needs).
fn write_string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec does not fail");
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Whether `bytes` hold a byte JSON escapes: below 0x20, `"` or `\`. Eight bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero when a byte of `x` is zero, or below `n` (n <= 0x80).
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("chunks of eight"));
        if below(x, 0x20) | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')))
            != 0
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A sequence being written.
pub struct Seq<'a> {
    c: &'a mut Canonical,
    first: bool,
    skip: bool,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        if self.skip {
            return Ok(());
        }
        if !self.first {
            self.c.out.push(b',');
        }
        self.first = false;
        value.serialize(&mut *self.c)
    }

    fn finish(self) -> Result {
        if !self.skip {
            self.c.out.push(b']');
        }
        Ok(())
    }
}

/// A variant holding a tuple or a struct: `{"variant":[..]}` or `{"variant":{..}}`.
pub struct Variant<T> {
    inner: T,
}

impl<'a> ser::Serializer for &'a mut Canonical {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Variant<Seq<'a>>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Variant<Map<'a>>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.number(v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result {
        if let Ok(v) = u64::try_from(v) {
            self.serialize_u64(v)
        } else if let Ok(v) = i64::try_from(v) {
            self.serialize_i64(v)
        } else {
            Err(Unsupported("number out of range".into()))
        }
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result {
        self.number(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result {
        match u64::try_from(v) {
            Ok(v) => self.serialize_u64(v),
            Err(_) => Err(Unsupported("number out of range".into())),
        }
    }

    // `to_value` widens an f32 to f64 (and prints it as one); a non-finite float is `null`.
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result {
        self.number(v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result {
        self.string(v);
        Ok(())
    }

    // `to_value` makes bytes an array of numbers.
    fn serialize_bytes(self, v: &[u8]) -> Result {
        let mut seq = self.seq(false);
        for byte in v {
            seq.element(byte)?;
        }
        seq.finish()
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &str) -> Result {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        if !self.open_variant(variant) {
            value.serialize(&mut *self)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>> {
        Ok(self.seq(false))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Seq<'a>> {
        Ok(self.seq(false))
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Seq<'a>> {
        Ok(self.seq(false))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<Seq<'a>>> {
        let skip = self.open_variant(variant);
        Ok(Variant {
            inner: self.seq(skip),
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'a>> {
        Ok(self.map(false))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Map<'a>> {
        Ok(self.map(false))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<Map<'a>>> {
        let skip = self.open_variant(variant);
        Ok(Variant {
            inner: self.map(skip),
        })
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }

    fn end(self) -> Result {
        self.finish()
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }

    fn end(self) -> Result {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }

    fn end(self) -> Result {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Variant<Seq<'_>> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.inner.element(value)
    }

    fn end(self) -> Result {
        let c = self.inner.c;
        if !self.inner.skip {
            c.out.push(b']');
        }
        c.out.push(b'}');
        Ok(())
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        if !self.skip {
            self.pending = key.serialize(KeyWriter(self))?;
        }
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        match self.pending.take() {
            Some((key, start)) if !self.skip => self.value(key, start, value),
            _ => Ok(()),
        }
    }

    fn end(self) -> Result {
        self.finish().map(drop)
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }

    fn end(self) -> Result {
        self.finish().map(drop)
    }
}

impl ser::SerializeStructVariant for Variant<Map<'_>> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.inner.field(key, value)
    }

    fn end(self) -> Result {
        self.inner.finish()?.out.push(b'}');
        Ok(())
    }
}

/// Starts a map's entry with its key, turned into a string as `to_value` turns keys.
struct KeyWriter<'m, 'a>(&'m mut Map<'a>);

impl KeyWriter<'_, '_> {
    fn text(self, text: &str) -> Result<Option<Pending>> {
        Ok(self.0.begin(text))
    }

    fn refuse<T>(what: &str) -> Result<T> {
        Err(Unsupported(format!(
            "a map key must be a string, not {what}"
        )))
    }
}

impl ser::Serializer for KeyWriter<'_, '_> {
    type Ok = Option<Pending>;
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<Option<Pending>, Unsupported>;
    type SerializeTuple = ser::Impossible<Option<Pending>, Unsupported>;
    type SerializeTupleStruct = ser::Impossible<Option<Pending>, Unsupported>;
    type SerializeTupleVariant = ser::Impossible<Option<Pending>, Unsupported>;
    type SerializeMap = ser::Impossible<Option<Pending>, Unsupported>;
    type SerializeStruct = ser::Impossible<Option<Pending>, Unsupported>;
    type SerializeStructVariant = ser::Impossible<Option<Pending>, Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<Option<Pending>> {
        self.text(if v { "true" } else { "false" })
    }

    fn serialize_i8(self, v: i8) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_i16(self, v: i16) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_i32(self, v: i32) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_i64(self, v: i64) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_i128(self, v: i128) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_u8(self, v: u8) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_u16(self, v: u16) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_u32(self, v: u32) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_u64(self, v: u64) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_u128(self, v: u128) -> Result<Option<Pending>> {
        self.text(&v.to_string())
    }

    fn serialize_f32(self, _v: f32) -> Result<Option<Pending>> {
        Self::refuse("a float")
    }

    fn serialize_f64(self, _v: f64) -> Result<Option<Pending>> {
        Self::refuse("a float")
    }

    fn serialize_char(self, v: char) -> Result<Option<Pending>> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<Option<Pending>> {
        self.text(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<Option<Pending>> {
        Self::refuse("bytes")
    }

    fn serialize_none(self) -> Result<Option<Pending>> {
        Self::refuse("none")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Option<Pending>> {
        Self::refuse("an option")
    }

    fn serialize_unit(self) -> Result<Option<Pending>> {
        Self::refuse("unit")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Option<Pending>> {
        Self::refuse("unit")
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &str,
    ) -> Result<Option<Pending>> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Option<Pending>> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Option<Pending>> {
        Self::refuse("an enum")
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Self::refuse("a sequence")
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Self::refuse("a tuple")
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Self::refuse("a tuple")
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Self::refuse("an enum")
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Self::refuse("a map")
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Self::refuse("a struct")
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Self::refuse("an enum")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::{json, Map, Value};
    use std::collections::BTreeMap;

    const DROP: &[&str] = &["status", "users"];

    /// What `Canonical` replaces: `to_value`, every map rebuilt with sorted keys minus the
    /// dropped ones, printed.
    fn through_value(value: &impl Serialize) -> String {
        fn canonical(value: Value) -> Value {
            match value {
                Value::Object(map) => {
                    let sorted: BTreeMap<String, Value> = map
                        .into_iter()
                        .filter(|(key, _)| !DROP.contains(&key.as_str()))
                        .map(|(key, value)| (key, canonical(value)))
                        .collect();
                    Value::Object(sorted.into_iter().collect::<Map<_, _>>())
                }
                Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
                other => other,
            }
        }
        canonical(serde_json::to_value(value).unwrap_or(Value::Null)).to_string()
    }

    fn streamed(value: &impl Serialize) -> String {
        String::from_utf8(Canonical::dropping(DROP).write(value).to_vec()).unwrap()
    }

    #[track_caller]
    fn same(value: &impl Serialize) {
        assert_eq!(streamed(value), through_value(value));
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Service {
        zeta: u32,
        id: String,
        status: String,
        maybe: Option<i64>,
        users: Vec<Value>,
        ratio: f32,
        kind: Kind,
        raw: Value,
    }

    #[derive(Serialize)]
    enum Kind {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct {
            b: bool,
            a: char,
        },
        #[serde(rename = "status")]
        Dropped {
            a: u8,
        },
    }

    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "camelCase")]
    enum Tagged {
        Database { project: String, engine: String },
        Stack,
    }

    #[derive(Serialize)]
    struct Flattened {
        b: u8,
        #[serde(flatten)]
        rest: BTreeMap<String, u8>,
        a: (),
    }

    #[test]
    fn equals_the_canonical_json_built_through_a_value() {
        for kind in [
            Kind::Unit,
            Kind::Newtype(7),
            Kind::Tuple(1, "x".into()),
            Kind::Struct { b: true, a: '"' },
            Kind::Dropped { a: 1 },
        ] {
            same(&Service {
                zeta: 3,
                id: "e6c6\u{e9}\n\"\\".into(),
                status: "READY".into(),
                maybe: Some(-4),
                users: vec![json!({"id": "u1"})],
                ratio: 0.1,
                kind,
                raw: json!({
                    "status": "READY", "b": [1, 2.5, {"status": 1, "z": null, "a": "\u{1}"}],
                    "a\"": {}, "a#": [], "nodes": [{"region": "GRA", "id": "n1"}],
                    "big": u64::MAX, "neg": i64::MIN, "f": 1e300
                }),
            });
        }
        same(&Tagged::Database {
            project: "p".into(),
            engine: "e".into(),
        });
        same(&Tagged::Stack);
        same(&Flattened {
            b: 1,
            rest: [("c".into(), 2), ("a".into(), 3), ("status".into(), 4)].into(),
            a: (),
        });
        same(&Option::<Service>::None);
        same(&vec!["b", "a"]);
        same(&BTreeMap::from([(2u8, "two"), (10, "ten")]));
        same(&[f64::NAN, f64::INFINITY, -0.0]);
        same(&serde_bytes_like());
    }

    fn serde_bytes_like() -> impl Serialize {
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_bytes(&[0, 255])
            }
        }
        Bytes
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = (0..=0x7f_u8).map(|b| char::from(b).to_string()).collect();
        cases.extend(["", "é", "\u{2028}", "\u{10ffff}", "\u{7f}"].map(String::from));
        for special in ['"', '\\', '\n', '\u{1f}', '\u{0}', ' ', '~', 'é'] {
            for at in 0..20 {
                let mut text = "abcdefghijklmnopqrs".to_string();
                text.insert(at, special);
                cases.push(text);
            }
        }
        for text in cases {
            let mut out = Vec::new();
            write_string(&mut out, &text);
            let expected = serde_json::to_string(&text).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{text:?}");
        }
    }

    #[test]
    fn of_two_equal_keys_the_last_wins_as_in_a_rebuilt_map() {
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                use ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("b", &1)?;
                map.serialize_entry("a", &2)?;
                map.serialize_entry("b", &3)?;
                map.end()
            }
        }
        assert_eq!(streamed(&Twice), r#"{"a":2,"b":3}"#);
        same(&Twice);
    }

    #[test]
    fn a_value_to_value_refuses_is_null() {
        same(&u128::MAX);
        assert_eq!(streamed(&u128::MAX), "null");
    }

    #[test]
    fn the_buffers_are_reused_without_leaking_from_one_value_to_the_next() {
        let mut canonical = Canonical::dropping(DROP);
        let first = canonical
            .write(&json!({"b": {"d": 1, "c": 2}, "a": 1}))
            .to_vec();
        let _ = canonical.write(&u128::MAX);
        let again = canonical.write(&json!({"b": {"d": 1, "c": 2}, "a": 1}));
        assert_eq!(again, first);
        assert_eq!(first, br#"{"a":1,"b":{"c":2,"d":1}}"#);
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("status".to_string()),
            Just("users".to_string()),
            "[a-c\"\\\\\u{1}\u{e9} ]{0,3}",
            // Long keys sharing their first eight bytes, NULs included.
            "[ab\u{0}]{6,12}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_value_streams_to_its_canonical_form(value in any_json()) {
            prop_assert_eq!(streamed(&value), through_value(&value));
        }

        #[test]
        fn key_prefixes_order_as_the_keys_do(
            a in prop::collection::vec(0u8..3, 0..12),
            b in prop::collection::vec(0u8..3, 0..12),
        ) {
            let by_prefix = prefix(&a).cmp(&prefix(&b)).then_with(|| a.cmp(&b));
            prop_assert_eq!(by_prefix, a.cmp(&b));
        }
    }
}
