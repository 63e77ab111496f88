//! The floor for `op-aws run`: a minimal Rust program that makes one request to the agent and
//! execs the command, built with plain `rustc -O` by bench/paired.sh. What op-aws costs above
//! this is its own startup and work.
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;

fn main() {
    let sock = std::env::var("OP_AWS_RUNTIME_DIR").expect("OP_AWS_RUNTIME_DIR") + "/agent.sock";
    let mut s = std::os::unix::net::UnixStream::connect(sock).expect("the agent");
    s.write_all(b"{\"op\":\"status\"}\n").expect("a request");
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line).expect("an answer");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let err = std::process::Command::new(&args[0])
        .args(&args[1..])
        .env("OP_AWS_FLOOR", line.len().to_string())
        .exec();
    panic!("{err}");
}
