//! Run: `cargo bench -p sails-bench --bench jwr`
//!
//! The answer half of a virtual request: an HTTP response turned into the
//! JWR `{body, headers, statusCode}` and serialised for the ack
//! (`sails_bench::hot_paths`, whose keys start with `jwr-`).

use criterion::Criterion;
use sails_bench::hot_paths::HOT_PATHS;

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    for path in HOT_PATHS.iter().filter(|path| path.key.starts_with("jwr-")) {
        criterion.bench_function(path.name, |b| b.iter(path.run));
    }
    criterion.final_summary();
}
