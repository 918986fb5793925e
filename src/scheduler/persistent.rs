//! `--persistent`: the wire between forkpool and a long-lived worker. Each job is one request
//! on the worker's stdin; `Replies` cuts the worker's stdout into replies by `--protocol`:
//! - `line`: one line per request;
//! - `end=STR`: the lines up to a line that is exactly STR (dropped);
//! - `json`: requests `{"seq":N,"slot":S,"args":[...]}` and replies
//!   `{"stdout":..,"stderr":..,"exit_code":N,"seq":N}` (all optional; exit_code 0), one per line.
//!
//! Pure functions and data: the scheduler does the reading and writing.

use serde_json::Value;

use crate::job::Exit;
use crate::options::Protocol;

/// One job's answer.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit: Exit,
}

/// The request for one job: `send` is the rendered `--send` template. Err when the request
/// cannot be told apart from the next one (it holds the byte that ends it).
pub fn request(
    protocol: &Protocol,
    send: &[u8],
    null: bool,
    seq: u64,
    slot: usize,
    args: &[Vec<u8>],
) -> Result<Vec<u8>, String> {
    if *protocol == Protocol::Json {
        // As --json: values that are not UTF-8 go as base64, so no byte is lost.
        let text: Option<Vec<&str>> = args.iter().map(|a| std::str::from_utf8(a).ok()).collect();
        let mut out = match text {
            Some(args) => serde_json::json!({"seq": seq, "slot": slot, "args": args}),
            None => serde_json::json!({
                "seq": seq,
                "slot": slot,
                "args": null,
                "args_base64": args.iter().map(|a| crate::output::json::base64(a)).collect::<Vec<_>>(),
            }),
        }
        .to_string()
        .into_bytes();
        out.push(b'\n');
        return Ok(out);
    }
    let end = if null { 0 } else { b'\n' };
    if send.contains(&end) {
        return Err(if null {
            "its request holds a NUL byte, which would end it early".to_string()
        } else {
            "its request holds a newline, which would end it early; use --send-null or --protocol json".to_string()
        });
    }
    let mut out = send.to_vec();
    out.push(end);
    Ok(out)
}

/// A worker's stdout, cut into replies.
pub struct Replies {
    protocol: Protocol,
    buf: Vec<u8>,
    /// How far `buf` has been searched for the end of the reply.
    scanned: usize,
}

impl Replies {
    pub fn new(protocol: Protocol) -> Replies {
        Replies {
            protocol,
            buf: Vec::new(),
            scanned: 0,
        }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes received that are not part of a complete reply.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next complete reply, if one has arrived; `Err` says how the worker broke the
    /// protocol. `seq` is the job the reply must answer.
    pub fn next(&mut self, seq: u64) -> Option<Result<Reply, String>> {
        match &self.protocol {
            Protocol::Line => {
                let end = self.line_end()?;
                let line: Vec<u8> = self.buf.drain(..end).collect();
                self.scanned = 0;
                Some(Ok(Reply {
                    stdout: line,
                    stderr: Vec::new(),
                    exit: Exit::Code(0),
                }))
            }
            Protocol::End(mark) => {
                // Look at each whole line once.
                let mut start = self.scanned;
                while let Some(i) = memchr::memchr(b'\n', &self.buf[start..]) {
                    let line = &self.buf[start..start + i];
                    if line == mark.as_slice() {
                        let mut body: Vec<u8> = self.buf.drain(..start + i + 1).collect();
                        body.truncate(start);
                        self.scanned = 0;
                        return Some(Ok(Reply {
                            stdout: body,
                            stderr: Vec::new(),
                            exit: Exit::Code(0),
                        }));
                    }
                    start += i + 1;
                }
                self.scanned = start;
                None
            }
            Protocol::Json => {
                let end = self.line_end()?;
                let line: Vec<u8> = self.buf.drain(..end).collect();
                self.scanned = 0;
                Some(parse_json(&line, seq))
            }
        }
    }

    fn line_end(&mut self) -> Option<usize> {
        match memchr::memchr(b'\n', &self.buf[self.scanned..]) {
            Some(i) => Some(self.scanned + i + 1),
            None => {
                self.scanned = self.buf.len();
                None
            }
        }
    }
}

fn parse_json(line: &[u8], seq: u64) -> Result<Reply, String> {
    let shown = || {
        String::from_utf8_lossy(line.trim_ascii())
            .chars()
            .take(80)
            .collect::<String>()
    };
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| format!("the reply is not JSON ({e}): {}", shown()))?;
    let Value::Object(o) = v else {
        return Err(format!("the reply is not a JSON object: {}", shown()));
    };
    let text = |key: &str| -> Result<Vec<u8>, String> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
            Some(_) => Err(format!(
                "\"{key}\" in the reply is not a string: {}",
                shown()
            )),
        }
    };
    if let Some(got) = o.get("seq")
        && got.as_u64() != Some(seq)
    {
        return Err(format!("the reply is for seq {got}, not {seq}"));
    }
    let exit = match o.get("exit_code") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .and_then(|c| i32::try_from(c).ok())
            .ok_or_else(|| format!("\"exit_code\" in the reply is not an integer: {}", shown()))?,
    };
    Ok(Reply {
        stdout: text("stdout")?,
        stderr: text("stderr")?,
        exit: Exit::Code(exit),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(out: &str, code: i32) -> Option<Result<Reply, String>> {
        Some(Ok(Reply {
            stdout: out.as_bytes().to_vec(),
            stderr: Vec::new(),
            exit: Exit::Code(code),
        }))
    }

    #[test]
    fn line_replies_arrive_in_pieces() {
        let mut r = Replies::new(Protocol::Line);
        r.feed(b"HEL");
        assert_eq!(r.next(1), None);
        r.feed(b"LO\nWOR");
        assert_eq!(r.next(1), ok("HELLO\n", 0));
        assert_eq!(r.next(2), None);
        r.feed(b"LD\n");
        assert_eq!(r.next(2), ok("WORLD\n", 0));
        assert!(!r.pending());
    }

    #[test]
    fn end_marker_replies_drop_the_marker() {
        let mut r = Replies::new(Protocol::End(b"--".to_vec()));
        r.feed(b"a\nb --\n");
        assert_eq!(r.next(1), None);
        r.feed(b"--\n--\nx");
        assert_eq!(r.next(1), ok("a\nb --\n", 0));
        assert_eq!(r.next(2), ok("", 0));
        assert_eq!(r.next(3), None);
        assert!(r.pending());
    }

    #[test]
    fn json_replies_and_their_faults() {
        let mut r = Replies::new(Protocol::Json);
        r.feed(b"{\"stdout\":\"hi\\n\",\"stderr\":\"warn\\n\",\"exit_code\":3,\"seq\":7}\n");
        assert_eq!(
            r.next(7),
            Some(Ok(Reply {
                stdout: b"hi\n".to_vec(),
                stderr: b"warn\n".to_vec(),
                exit: Exit::Code(3),
            }))
        );
        r.feed(b"{}\n");
        assert_eq!(r.next(8), ok("", 0));
        for bad in [
            "nope\n",
            "[1]\n",
            "{\"seq\":2}\n",
            "{\"exit_code\":\"x\"}\n",
            "{\"stdout\":1}\n",
        ] {
            r.feed(bad.as_bytes());
            assert!(matches!(r.next(9), Some(Err(_))), "{bad}");
        }
    }

    #[test]
    fn requests() {
        assert_eq!(
            request(&Protocol::Line, b"a b", false, 1, 1, &[]).unwrap(),
            b"a b\n"
        );
        assert_eq!(
            request(&Protocol::Line, b"a", true, 1, 1, &[]).unwrap(),
            b"a\0"
        );
        assert!(request(&Protocol::Line, b"a\nb", false, 1, 1, &[]).is_err());
        assert!(request(&Protocol::End(b"E".to_vec()), b"a\0b", true, 1, 1, &[]).is_err());
        assert_eq!(
            request(&Protocol::Json, b"", false, 4, 2, &[b"x y".to_vec()]).unwrap(),
            b"{\"args\":[\"x y\"],\"seq\":4,\"slot\":2}\n"
        );
        assert_eq!(
            request(&Protocol::Json, b"", false, 1, 1, &[b"a\xffb".to_vec()]).unwrap(),
            b"{\"args\":null,\"args_base64\":[\"Yf9i\"],\"seq\":1,\"slot\":1}\n"
        );
    }
}
