//! baresip through its `ctrl_tcp` module. One persistent TCP connection; each
//! command carries a token and waits for the response with that token (baresip
//! answers `dial` at once without a call id, so calls are followed through the
//! events, which are forwarded on a channel).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::dial::{
    self, BaresipCommand, BaresipMessage, BaresipResponse, CallEvent, parse_netstring,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};

use super::{COMMAND_TIMEOUT, DialerError};

/// Largest message accepted from baresip (its events are a few hundred bytes).
const MAX_MESSAGE: usize = 64 * 1024;

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<BaresipResponse>>>>;

/// A connected baresip control client.
#[derive(Debug)]
pub struct Baresip {
    writer: OwnedWriteHalf,
    pending: Pending,
    next_token: AtomicU64,
    timeout: Duration,
}

impl Baresip {
    /// Connects to `addr` (e.g. `127.0.0.1:4444`). Call events arrive on the
    /// returned receiver until the connection ends.
    pub async fn connect(addr: &str) -> Result<(Baresip, mpsc::Receiver<CallEvent>), DialerError> {
        let stream = tokio::time::timeout(COMMAND_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| DialerError::Unreachable {
                addr: addr.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, "connection timed out"),
            })?
            .map_err(|source| DialerError::Unreachable {
                addr: addr.to_owned(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let (mut reader, writer) = stream.into_split();
        let pending: Pending = Arc::default();
        let (events_tx, events_rx) = mpsc::channel(64);
        let routes = pending.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            let mut chunk = [0u8; 4096];
            loop {
                match reader.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                loop {
                    match parse_netstring(&buf, MAX_MESSAGE) {
                        Ok(Some((payload, used))) => {
                            route(payload, &routes, &events_tx).await;
                            buf.drain(..used);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::error!("baresip sent garbage ({e}); dropping the connection");
                            return;
                        }
                    }
                }
            }
            // Wake every waiting command: the connection is gone.
            if let Ok(mut p) = routes.lock() {
                p.clear();
            }
        });
        Ok((
            Baresip {
                writer,
                pending,
                next_token: AtomicU64::new(1),
                timeout: COMMAND_TIMEOUT,
            },
            events_rx,
        ))
    }

    /// Overrides the per-command timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends a command and waits for its response; returns the response data.
    pub async fn command(
        &mut self,
        command: &str,
        params: Option<&str>,
    ) -> Result<String, DialerError> {
        let token = format!("rs{}", self.next_token.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .map_err(|_| DialerError::Closed)?
            .insert(token.clone(), tx);
        let body = serde_json::to_vec(&BaresipCommand {
            command,
            params,
            token: &token,
        })
        .map_err(|e| DialerError::Rejected {
            command: command.to_owned(),
            message: e.to_string(),
        })?;
        if self
            .writer
            .write_all(&dial::netstring(&body))
            .await
            .is_err()
        {
            return Err(DialerError::Closed);
        }
        let response = match tokio::time::timeout(self.timeout, rx).await {
            Err(_) => {
                if let Ok(mut p) = self.pending.lock() {
                    p.remove(&token);
                }
                return Err(DialerError::Timeout {
                    command: command.to_owned(),
                    after: self.timeout,
                });
            }
            Ok(Err(_)) => return Err(DialerError::Closed),
            Ok(Ok(r)) => r,
        };
        if response.ok {
            Ok(response.data)
        } else {
            Err(DialerError::Rejected {
                command: command.to_owned(),
                message: response.data,
            })
        }
    }

    /// Dials a validated target: a SIP URI, or a bare number the softphone
    /// completes with its account's domain.
    pub async fn dial(&mut self, target: &str) -> Result<(), DialerError> {
        if target.starts_with("sip:") || target.starts_with("sips:") {
            dial::validate_sip_uri(target)?;
        } else if target.is_empty()
            || !target
                .chars()
                .all(|c| c.is_ascii_digit() || c == '+' || c == '*' || c == '#')
        {
            return Err(dial::DialError::BadNumber(target.chars().take(40).collect()).into());
        }
        self.command("dial", Some(target)).await.map(|_| ())
    }

    /// Hangs up the current call.
    pub async fn hangup(&mut self) -> Result<(), DialerError> {
        self.command("hangup", None).await.map(|_| ())
    }

    /// Carries out a validated `call.control`: the commands of
    /// [`ringside_core::call_control::baresip_steps`] in order; a `mute`
    /// that toggled the wrong way is toggled back.
    pub async fn control(
        &mut self,
        steps: &[ringside_core::call_control::BaresipStep],
    ) -> Result<(), DialerError> {
        for s in steps {
            let data = self.command(s.command, s.params.as_deref()).await?;
            if let Some(want) = s.want_muted
                && ringside_core::call_control::says_muted(&data) != want
            {
                self.command(s.command, None).await?;
            }
        }
        Ok(())
    }

    /// Answers the ringing incoming call.
    pub async fn accept(&mut self) -> Result<(), DialerError> {
        self.command("accept", None).await.map(|_| ())
    }
}

async fn route(payload: &[u8], pending: &Pending, events: &mpsc::Sender<CallEvent>) {
    match serde_json::from_slice::<BaresipMessage>(payload) {
        Ok(BaresipMessage::Response(r)) => {
            let waiter = r
                .token
                .as_ref()
                .and_then(|t| pending.lock().ok().and_then(|mut p| p.remove(t)));
            if let Some(tx) = waiter {
                let _ = tx.send(r);
            }
        }
        Ok(BaresipMessage::Event(ev)) => {
            if let Some(call) = dial::call_event(&ev) {
                let _ = events.send(call).await;
            }
        }
        Err(e) => tracing::warn!("unreadable message from baresip: {e}"),
    }
}
