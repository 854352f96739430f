//! `cargo run -p nets-examples --bin quickstart [-- --addr 127.0.0.1:8000]`

use std::net::SocketAddr;

use clap::Parser;
use nets_examples::quickstart;
use nets_runtime::Settings;

/// The nets quickstart server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "NETS_ADDR", default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let mut settings = Settings::load()?;
    settings.debug = true;
    let router = quickstart::router(settings)?;
    println!("nets quickstart on http://{}", args.addr);
    println!("  try: curl http://{}/ping/", args.addr);
    println!("  docs: http://{}/docs/  (OpenAPI: /openapi.json)", args.addr);
    println!("  private endpoints: -H 'Authorization: Bearer {}'", quickstart::DEMO_TOKEN);
    nets_runtime::serve(router, args.addr).await?;
    Ok(())
}
