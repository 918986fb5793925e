//! `--json`: one JSON object per finished job (schema version 1, documented in the man page).
//! No byte is lost: a value that is not valid UTF-8 goes out as base64 under `<key>_base64`.

use serde_json::{Map, Value, json};

use crate::job::{Exit, JobRecord, signal_name};

pub fn line(r: &JobRecord, stdout: &[u8], stderr: &[u8]) -> Vec<u8> {
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
    bytes_field(&mut m, "stdout", stdout);
    bytes_field(&mut m, "stderr", stderr);
    let mut out = serde_json::to_vec(&Value::Object(m)).expect("JSON values serialize");
    out.push(b'\n');
    out
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
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
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
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

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
