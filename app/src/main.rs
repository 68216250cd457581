//! `sails-server [--host H] [--port P] [--www DIR] [--config FILE] [--allow-origin ORIGIN]…`:
//! serves the demo pages and the realtime layer (flags: [`sails_app::cli`]).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    sails_app::cli::main("sails-server", sails_app::cli::Defaults::new("www")).await
}
