//! Run: `sails-instructions <hot path> <times>`, under
//! `valgrind --tool=cachegrind --cache-sim=no`.
//!
//! Does one of `sails_bench::hot_paths` the given number of times and
//! nothing else, so that the difference between the instruction counts of
//! two runs, divided by the difference in times, is the path's instructions
//! per call (`cargo xtask bench` does this). `sails-instructions --list`
//! prints the keys.

use std::process::ExitCode;

use sails_bench::hot_paths::HOT_PATHS;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for path in &HOT_PATHS {
            println!("{}\t{}", path.key, path.name);
        }
        return ExitCode::SUCCESS;
    }
    let (Some(key), Some(times), None) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: sails-instructions <hot path> <times> | --list");
        return ExitCode::from(2);
    };
    let Some(path) = HOT_PATHS.iter().find(|path| path.key == key) else {
        eprintln!("sails-instructions: no hot path `{key}` (see --list)");
        return ExitCode::from(2);
    };
    let Ok(times) = times.parse::<u64>() else {
        eprintln!("sails-instructions: `{times}` is not a number of times");
        return ExitCode::from(2);
    };
    for _ in 0..times {
        (path.run)();
    }
    ExitCode::SUCCESS
}
