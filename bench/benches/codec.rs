//! Run: `cargo bench -p sails-bench --bench codec`
//!
//! The wire codec on the frames of a virtual request and its answer: what
//! every request costs a client and the load generator, per frame
//! (`sails_bench::hot_paths`, whose keys start with `codec-`).

use criterion::Criterion;
use sails_bench::hot_paths::HOT_PATHS;

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    for path in HOT_PATHS
        .iter()
        .filter(|path| path.key.starts_with("codec-"))
    {
        criterion.bench_function(path.name, |b| b.iter(path.run));
    }
    criterion.final_summary();
}
