//! `ringside-emulator [--port N] [--pages DIR]`: binds 127.0.0.1 only, prints
//! `{"url": "http://127.0.0.1:PORT"}` on stdout once listening, serves until
//! SIGTERM or Ctrl-C.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "ringside-emulator",
    version,
    about = "Loopback stand-in for Google, Microsoft and the phone platform."
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Directory served under /pages/.
    #[arg(long)]
    pages: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{}",
            serde_json::json!({"url": format!("http://{addr}")})
        )?;
        out.flush()?;
    }
    let app = ringside_emulator::app(ringside_emulator::Options { pages: args.pages });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let term = async {
                #[cfg(unix)]
                if let Ok(mut s) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    s.recv().await;
                }
                #[cfg(not(unix))]
                std::future::pending::<()>().await;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term => {},
            }
        })
        .await?;
    Ok(())
}
