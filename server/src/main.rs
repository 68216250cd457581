//! `sails-server [--host H] [--port P] [--www DIR] [--config FILE] [--allow-origin ORIGIN]…`:
//! serves the demo pages and the realtime layer (flags: [`sails_server::cli`]).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    sails_server::cli::main("sails-server", sails_server::cli::Defaults::new("www")).await
}
