//! `sails-server [--host H] [--port P] [--www DIR]`: serves the demo pages and the realtime layer.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    sails_server::cli::main("sails-server", "www".into()).await
}
