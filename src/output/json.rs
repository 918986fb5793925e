//! `--json`: one JSON object per finished job (schema version 1, documented in the man page).
//! No byte is lost: a value that is not valid UTF-8 goes out as base64 under `<key>_base64`.
//!
//! A job's stdout and stderr can be larger than memory (they may wait in the spill file), so
//! they are encoded as they stream by, in two passes over the held bytes (is it UTF-8? then
//! write it escaped or in base64), never as one string in memory. The other fields are small
//! and go through serde_json. Keys come out in sorted order, as serde_json writes a map.

use std::io;

use serde_json::{Map, Value, json};

use crate::job::{Exit, JobRecord, signal_name};

/// A stream of bytes that can be walked more than once, chunk by chunk.
pub trait Chunks {
    fn each(&mut self, f: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()>;
}

/// Write `r`'s JSON line, with `stdout` and `stderr` streamed from where they are held.
pub fn write(
    r: &JobRecord,
    stdout: &mut dyn Chunks,
    stderr: &mut dyn Chunks,
    out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut m = fields(r);
    // Sorted keys: these come after "stderr*" and "stdout*".
    let mut after = Map::new();
    for k in ["timed_out", "worker"] {
        if let Some(v) = m.remove(k) {
            after.insert(k.to_string(), v);
        }
    }
    let head = serde_json::to_vec(&Value::Object(m)).expect("JSON values serialize");
    out(&head[..head.len() - 1])?;
    out(b",")?;
    stream_field("stderr", stderr, out)?;
    out(b",")?;
    stream_field("stdout", stdout, out)?;
    let tail = serde_json::to_vec(&Value::Object(after)).expect("JSON values serialize");
    out(b",")?;
    out(&tail[1..])?;
    out(b"\n")
}

/// `"key":"escaped text"`, or `"key":null,"key_base64":"..."` when it is not UTF-8.
fn stream_field(
    key: &str,
    v: &mut dyn Chunks,
    out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut check = Utf8Check::default();
    v.each(&mut |c| {
        check.feed(c);
        Ok(())
    })?;
    if check.valid() {
        out(format!("\"{key}\":\"").as_bytes())?;
        let mut esc = Vec::new();
        v.each(&mut |c| {
            esc.clear();
            escape(c, &mut esc);
            out(&esc)
        })?;
        return out(b"\"");
    }
    out(format!("\"{key}\":null,\"{key}_base64\":\"").as_bytes())?;
    let mut carry: Vec<u8> = Vec::with_capacity(2);
    let mut enc = String::new();
    v.each(&mut |c| {
        let mut data = c;
        if !carry.is_empty() {
            let take = (3 - carry.len()).min(data.len());
            carry.extend_from_slice(&data[..take]);
            data = &data[take..];
            if carry.len() < 3 {
                return Ok(());
            }
            out(base64(&carry).as_bytes())?;
            carry.clear();
        }
        let whole = data.len() / 3 * 3;
        enc.clear();
        base64_into(&data[..whole], &mut enc);
        carry.extend_from_slice(&data[whole..]);
        out(enc.as_bytes())
    })?;
    out(base64(&carry).as_bytes())?;
    out(b"\"")
}

/// JSON string escaping, byte by byte as serde_json does it (bytes of multi-byte characters
/// need none, so chunks can be cut anywhere).
fn escape(data: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in data {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            _ => out.push(b),
        }
    }
}

/// Whether a stream given in chunks is UTF-8, a character possibly cut between chunks.
#[derive(Default)]
struct Utf8Check {
    /// The start of a character cut at the end of the last chunk.
    carry: Vec<u8>,
    bad: bool,
}

impl Utf8Check {
    fn feed(&mut self, mut data: &[u8]) {
        if self.bad {
            return;
        }
        if !self.carry.is_empty() {
            let want = match self.carry[0] {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            let take = (want - self.carry.len()).min(data.len());
            self.carry.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.carry.len() < want {
                return;
            }
            if std::str::from_utf8(&self.carry).is_err() {
                self.bad = true;
                return;
            }
            self.carry.clear();
        }
        if let Err(e) = std::str::from_utf8(data) {
            match e.error_len() {
                // Cut short at the end: the next chunk may complete it.
                None => self.carry = data[e.valid_up_to()..].to_vec(),
                Some(_) => self.bad = true,
            }
        }
    }

    fn valid(&self) -> bool {
        !self.bad && self.carry.is_empty()
    }
}

/// The fields of `r` other than its output, as a JSON map.
fn fields(r: &JobRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("seq".into(), json!(r.seq));
    m.insert("slot".into(), json!(r.slot));
    m.insert("host".into(), json!(r.host));
    m.insert("worker".into(), json!(r.worker));
    match r
        .args
        .iter()
        .map(|a| std::str::from_utf8(a).ok())
        .collect::<Option<Vec<&str>>>()
    {
        Some(args) => {
            m.insert("args".into(), json!(args));
        }
        None => {
            m.insert("args".into(), Value::Null);
            m.insert(
                "args_base64".into(),
                json!(r.args.iter().map(|a| base64(a)).collect::<Vec<_>>()),
            );
        }
    }
    bytes_field(&mut m, "command", &r.command);
    let (code, signal) = match r.exit {
        Exit::Code(c) => (Some(c), None),
        Exit::Signal(s) => (None, Some(signal_name(s))),
    };
    m.insert("exit_code".into(), json!(code));
    m.insert("signal".into(), json!(signal));
    m.insert("timed_out".into(), json!(r.timed_out));
    m.insert("attempts".into(), json!(r.attempts));
    let start = r
        .start
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    m.insert("start".into(), json!(start));
    m.insert("runtime".into(), json!(r.runtime.as_secs_f64()));
    m
}

fn bytes_field(m: &mut Map<String, Value>, key: &str, v: &[u8]) {
    match std::str::from_utf8(v) {
        Ok(s) => {
            m.insert(key.into(), json!(s));
        }
        Err(_) => {
            m.insert(key.into(), Value::Null);
            m.insert(format!("{key}_base64"), json!(base64(v)));
        }
    }
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    base64_into(data, &mut out);
    out
}

fn base64_into(data: &[u8], out: &mut String) {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same bytes in chunks of every size encode as serde_json encodes them whole.
    #[test]
    fn streamed_fields_match_serde_json_whatever_the_chunking() {
        struct Cut<'a>(&'a [u8], usize);
        impl Chunks for Cut<'_> {
            fn each(&mut self, f: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
                self.0.chunks(self.1).try_for_each(f)
            }
        }
        let texts: [&[u8]; 4] = [
            "plain \"quoted\" \\ tab\t nl\n cr\r \u{1} \u{7f} é 日本 🎉".as_bytes(),
            b"",
            b"\xff\xfe not utf-8 \x00",
            "cut é".as_bytes(),
        ];
        for text in texts {
            for size in 1..=7 {
                let mut got = Vec::new();
                stream_field("v", &mut Cut(text, size), &mut |b| {
                    got.extend_from_slice(b);
                    Ok(())
                })
                .unwrap();
                let mut m = Map::new();
                bytes_field(&mut m, "v", text);
                let whole = serde_json::to_string(&Value::Object(m)).unwrap();
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    whole[1..whole.len() - 1],
                    "{text:?} in chunks of {size}"
                );
            }
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }
}
