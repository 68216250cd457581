//! `sails-temp-postgres`, as other languages' tests use it: ready, a URL per
//! database asked for, everything gone at the end of its input.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn makes_databases_on_request_and_stops_at_the_end_of_its_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sails-temp-postgres"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start sails-temp-postgres");
    let mut input = child.stdin.take().expect("piped stdin");
    let output = child.stdout.take().expect("piped stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a line within 60 s")
    };
    assert_eq!(next(), "ready");
    writeln!(input, "first").unwrap();
    let url = next();
    assert!(
        url.starts_with("postgres://postgres@127.0.0.1:") && url.ends_with("/first"),
        "{url}"
    );
    writeln!(input, "bad name\"").unwrap();
    assert!(next().starts_with("error: "), "a bad name is an error line");
    drop(input);
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let status = done
        .recv_timeout(Duration::from_secs(60))
        .expect("it ends within 60 s")
        .expect("its status");
    assert!(status.success(), "{status}");
}
