//! `nats-bench`: a load generator for NATS servers over raw TCP.
//!
//! Std threads and blocking sockets only; a specialised counting parser skips
//! payloads by declared size so the client stays cheaper than the server.

mod conn;
mod cpu;
mod error;
mod flow;
mod latency;
mod options;
mod parser;
mod publisher;
mod report;
mod scenario;
mod subscriber;

use std::process::ExitCode;

use options::Command;

fn main() -> ExitCode {
    match options::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", options::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::Run(opts)) => match scenario::run(&opts) {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nats-bench {}: {e}", opts.scenario.name());
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("nats-bench: {e}\n\n{}", options::USAGE);
            ExitCode::from(2)
        }
    }
}
