//! The extension's link to the native host: connect, say hello, keep the state,
//! reconnect with backoff. The service worker feeds it what happened (port opened,
//! message, disconnect with Chrome's `lastError`, timer fired) and carries out the
//! actions it returns; no timers or ports live here.

use serde::{Deserialize, Serialize};

use crate::protocol::{
    self, ErrorBody, ErrorCode, HelloParams, HelloResult, Incoming, Request, SUPPORTED_VERSIONS,
};

/// How long the host has to answer `hello` before the port is dropped and retried.
pub const HELLO_TIMEOUT_MS: u32 = 5_000;
/// First retry delay after the host went away; doubles each attempt.
pub const BACKOFF_START_MS: u32 = 250;
/// Upper bound of the retry delay.
pub const BACKOFF_MAX_MS: u32 = 30_000;
/// Retry delay when a person must fix something first (host not installed,
/// blocked, refused, incompatible). Opening a Ringside page and "Retry now"
/// retry at once, so an install is picked up without waiting for this.
pub const CONFIG_RETRY_MS: u32 = 30_000;

/// What Chrome's `runtime.lastError` on a native port's disconnect means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectKind {
    /// No host manifest for this browser/profile: the host is not installed.
    NotFound,
    /// The browser refuses to start the host: NativeMessagingBlocklist policy
    /// ("disabled by the system administrator"), or the manifest's
    /// allowed_origins lacks this extension ("forbidden").
    Forbidden,
    /// The host process ended (crash, kill, or it closed the stream).
    Exited,
    /// Anything else Chrome reports (the text is kept for diagnostics).
    Other,
}

/// Maps Chromium's `runtime.lastError.message` (Firefox's `port.error.message`)
/// for a native port.
pub fn classify_disconnect(last_error: Option<&str>) -> DisconnectKind {
    let Some(msg) = last_error else {
        return DisconnectKind::Exited;
    };
    let m = msg.to_ascii_lowercase();
    // Firefox: "No such native application <name>" (not registered, or the
    // manifest's allowed_extensions lacks this add-on).
    if m.contains("not found")
        || m.contains("invalid native messaging host name")
        || m.contains("no such native application")
    {
        DisconnectKind::NotFound
    } else if m.contains("forbidden") || m.contains("disabled by the system administrator") {
        DisconnectKind::Forbidden
    } else if m.contains("exited") || m.contains("failed to start") {
        DisconnectKind::Exited
    } else {
        DisconnectKind::Other
    }
}

/// What surfaces show about the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HostStatus {
    /// A port is open and `hello` is on its way.
    Connecting,
    /// `hello` succeeded.
    Connected { info: HelloResult },
    /// The browser found no host manifest.
    NotInstalled,
    /// The browser refuses to start the host (policy or allowed_origins).
    Blocked,
    /// The host runs but refuses this extension (its allow-list).
    Refused { message: String },
    /// The host speaks no protocol version this extension speaks.
    Incompatible { message: String },
    /// The host went away; the next attempt is scheduled.
    Reconnecting { attempt: u32, retry_in_ms: u32 },
}

/// Something that happened to the link.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkInput {
    /// Start (service worker start, popup asked to retry, retry timer fired).
    Connect,
    /// The port is open; carries the result of the connect call (an exception
    /// from connectNative becomes a disconnect).
    Opened,
    /// A message arrived on the port (already decoded from the JS value).
    Message(Incoming),
    /// The port disconnected, with Chrome's lastError message if any.
    Disconnected { last_error: Option<String> },
    /// The hello timer for connection `generation` fired.
    HelloTimeout { generation: u64 },
    /// The retry timer for connection `generation` fired.
    RetryTimer { generation: u64 },
}

/// What the service worker must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkAction {
    /// Call `chrome.runtime.connectNative(HOST_NAME)`.
    OpenPort,
    /// Post this JSON request on the port.
    Send(serde_json::Value),
    /// Disconnect the current port (a misbehaving host).
    ClosePort,
    /// Arm a timer that feeds `HelloTimeout { generation }` after `ms`.
    StartHelloTimer { generation: u64, ms: u32 },
    /// Arm a timer that feeds `RetryTimer { generation }` after `ms`.
    StartRetryTimer { generation: u64, ms: u32 },
    /// The status changed: push it to every open surface.
    StatusChanged,
    /// A response to a request the link did not send itself (e.g. a page's ping);
    /// the adapter routes it by id.
    Deliver(protocol::Response),
    /// An event from the host for other parts of the service worker.
    HostEvent(protocol::Event),
}

/// Counters shown in the options page's diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    /// Successful hellos since the service worker started.
    pub connects: u32,
    /// Disconnects of a connected host.
    pub drops: u32,
    /// Chrome's last disconnect message, verbatim.
    pub last_error: Option<String>,
}

/// The link state machine.
#[derive(Debug, Clone)]
pub struct HostLink {
    status: HostStatus,
    /// Bumped on each connection attempt so stale timers are ignored.
    generation: u64,
    /// Failed attempts since the last successful hello.
    attempt: u32,
    port_open: bool,
    hello_id: Option<u64>,
    next_id: u64,
    /// A `host.error` received before the disconnect that follows it.
    pending_refusal: Option<ErrorBody>,
    client: String,
    stats: LinkStats,
}

impl HostLink {
    pub fn new(client: impl Into<String>) -> Self {
        HostLink {
            status: HostStatus::Connecting,
            generation: 0,
            attempt: 0,
            port_open: false,
            hello_id: None,
            next_id: 1,
            pending_refusal: None,
            client: client.into(),
            stats: LinkStats::default(),
        }
    }

    pub fn status(&self) -> &HostStatus {
        &self.status
    }

    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.status, HostStatus::Connected { .. })
    }

    /// Allocates a request id for a request sent by someone else over this port.
    pub fn next_request_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The delay before retry number `attempt` (1-based).
    pub fn backoff_ms(attempt: u32) -> u32 {
        let shift = attempt.saturating_sub(1).min(16);
        BACKOFF_START_MS
            .saturating_mul(1u32 << shift)
            .min(BACKOFF_MAX_MS)
    }

    fn set_status(&mut self, status: HostStatus, out: &mut Vec<LinkAction>) {
        if self.status != status {
            self.status = status;
            out.push(LinkAction::StatusChanged);
        }
    }

    /// Feeds one input; returns the actions to carry out, in order.
    pub fn handle(&mut self, input: LinkInput) -> Vec<LinkAction> {
        let mut out = Vec::new();
        match input {
            LinkInput::Connect => {
                if self.port_open {
                    // Already connected or connecting: nothing to do.
                    return out;
                }
                self.generation += 1;
                self.pending_refusal = None;
                self.set_status(HostStatus::Connecting, &mut out);
                out.push(LinkAction::OpenPort);
            }
            LinkInput::Opened => {
                self.port_open = true;
                let id = self.next_request_id();
                self.hello_id = Some(id);
                let hello = Request::Hello(HelloParams {
                    versions: SUPPORTED_VERSIONS.to_vec(),
                    client: Some(self.client.clone()),
                });
                out.push(LinkAction::Send(protocol::request_json(id, &hello)));
                out.push(LinkAction::StartHelloTimer {
                    generation: self.generation,
                    ms: HELLO_TIMEOUT_MS,
                });
            }
            LinkInput::Message(Incoming::Response(resp)) => {
                if resp.id.is_some() && resp.id == self.hello_id {
                    self.hello_id = None;
                    match resp.into_result::<HelloResult>() {
                        Ok(info) => {
                            self.attempt = 0;
                            self.stats.connects += 1;
                            self.set_status(HostStatus::Connected { info }, &mut out);
                        }
                        Err(e) => {
                            let status = HostStatus::Incompatible { message: e.message };
                            self.set_status(status, &mut out);
                            out.push(LinkAction::ClosePort);
                            self.port_open = false;
                        }
                    }
                } else {
                    out.push(LinkAction::Deliver(resp));
                }
            }
            LinkInput::Message(Incoming::Event(ev)) => {
                if let Some(err) = ev.error()
                    && err.kind() == Some(ErrorCode::OriginNotAllowed)
                {
                    self.pending_refusal = Some(err);
                    return out;
                }
                out.push(LinkAction::HostEvent(ev));
            }
            LinkInput::Disconnected { last_error } => {
                let was_connected = self.is_connected();
                self.port_open = false;
                self.hello_id = None;
                if was_connected {
                    self.stats.drops += 1;
                }
                self.stats.last_error = last_error.clone();
                self.attempt = self.attempt.saturating_add(1);
                let retry_in_ms = Self::backoff_ms(self.attempt);
                let kind = classify_disconnect(last_error.as_deref());
                let status = if let Some(err) = self.pending_refusal.take() {
                    HostStatus::Refused {
                        message: err.message,
                    }
                } else if let HostStatus::Incompatible { .. } = self.status {
                    self.status.clone()
                } else {
                    match kind {
                        DisconnectKind::NotFound => HostStatus::NotInstalled,
                        DisconnectKind::Forbidden => HostStatus::Blocked,
                        DisconnectKind::Exited | DisconnectKind::Other => {
                            HostStatus::Reconnecting {
                                attempt: self.attempt,
                                retry_in_ms,
                            }
                        }
                    }
                };
                let delay = match status {
                    HostStatus::Reconnecting { retry_in_ms, .. } => retry_in_ms,
                    _ => CONFIG_RETRY_MS,
                };
                self.set_status(status, &mut out);
                out.push(LinkAction::StartRetryTimer {
                    generation: self.generation,
                    ms: delay,
                });
            }
            LinkInput::HelloTimeout { generation } => {
                if generation == self.generation && self.port_open && self.hello_id.is_some() {
                    out.push(LinkAction::ClosePort);
                    // Chrome does not fire onDisconnect for a port we close ourselves.
                    out.extend(self.handle(LinkInput::Disconnected {
                        last_error: Some("The native host did not answer hello.".to_owned()),
                    }));
                }
            }
            LinkInput::RetryTimer { generation } => {
                if generation == self.generation && !self.port_open {
                    out.extend(self.handle(LinkInput::Connect));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    //! The link's transitions, driven the way the service worker drives them.
    use super::*;
    use crate::protocol::{Event, Response};

    fn info() -> HelloResult {
        HelloResult {
            version: 1,
            host_version: "0.1.0".into(),
            capabilities: vec!["ping".into()],
            pid: 42,
            os: "linux".into(),
        }
    }

    fn connect(link: &mut HostLink) -> u64 {
        assert_eq!(
            link.handle(LinkInput::Connect).last(),
            Some(&LinkAction::OpenPort)
        );
        let acts = link.handle(LinkInput::Opened);
        let LinkAction::Send(v) = &acts[0] else {
            panic!("no hello sent: {acts:?}")
        };
        assert_eq!(v["type"], "hello");
        assert_eq!(v["params"]["versions"], serde_json::json!([1]));
        v["id"].as_u64().unwrap()
    }

    #[test]
    fn classifies_firefox_messages() {
        assert_eq!(
            classify_disconnect(Some("No such native application com.ringside.host")),
            DisconnectKind::NotFound
        );
    }

    #[test]
    fn classifies_chromium_messages() {
        assert_eq!(
            classify_disconnect(Some("Specified native messaging host not found.")),
            DisconnectKind::NotFound
        );
        assert_eq!(
            classify_disconnect(Some(
                "Access to the specified native messaging host is forbidden."
            )),
            DisconnectKind::Forbidden
        );
        assert_eq!(
            classify_disconnect(Some(
                "Access to the native messaging host was disabled by the system administrator."
            )),
            DisconnectKind::Forbidden
        );
        assert_eq!(
            classify_disconnect(Some("Native host has exited.")),
            DisconnectKind::Exited
        );
        assert_eq!(
            classify_disconnect(Some(
                "Error when communicating with the native messaging host."
            )),
            DisconnectKind::Other
        );
        assert_eq!(classify_disconnect(None), DisconnectKind::Exited);
    }

    #[test]
    fn hello_success_connects() {
        let mut link = HostLink::new("test");
        let id = connect(&mut link);
        let acts = link.handle(LinkInput::Message(Incoming::Response(Response::ok(
            id,
            info(),
        ))));
        assert_eq!(acts, vec![LinkAction::StatusChanged]);
        assert_eq!(link.status(), &HostStatus::Connected { info: info() });
        assert_eq!(link.stats().connects, 1);
    }

    #[test]
    fn not_found_means_not_installed_and_retries_slowly() {
        let mut link = HostLink::new("test");
        connect(&mut link);
        let acts = link.handle(LinkInput::Disconnected {
            last_error: Some("Specified native messaging host not found.".into()),
        });
        assert_eq!(link.status(), &HostStatus::NotInstalled);
        assert!(acts.contains(&LinkAction::StartRetryTimer {
            generation: 1,
            ms: CONFIG_RETRY_MS
        }));
        // "Retry now" (or a page opening) tries again at once.
        assert_eq!(
            link.handle(LinkInput::Connect).last(),
            Some(&LinkAction::OpenPort)
        );
    }

    #[test]
    fn forbidden_means_blocked() {
        let mut link = HostLink::new("test");
        connect(&mut link);
        link.handle(LinkInput::Disconnected {
            last_error: Some("Access to the specified native messaging host is forbidden.".into()),
        });
        assert_eq!(link.status(), &HostStatus::Blocked);
    }

    #[test]
    fn exit_after_connect_reconnects_with_backoff_and_resets() {
        let mut link = HostLink::new("test");
        let id = connect(&mut link);
        link.handle(LinkInput::Message(Incoming::Response(Response::ok(
            id,
            info(),
        ))));
        let acts = link.handle(LinkInput::Disconnected {
            last_error: Some("Native host has exited.".into()),
        });
        assert_eq!(
            link.status(),
            &HostStatus::Reconnecting {
                attempt: 1,
                retry_in_ms: 250
            }
        );
        assert_eq!(link.stats().drops, 1);
        assert_eq!(
            acts.last(),
            Some(&LinkAction::StartRetryTimer {
                generation: 1,
                ms: 250
            })
        );
        // The timer fires: a new attempt, which fails again -> longer delay.
        assert_eq!(
            link.handle(LinkInput::RetryTimer { generation: 1 }).last(),
            Some(&LinkAction::OpenPort)
        );
        link.handle(LinkInput::Opened);
        link.handle(LinkInput::Disconnected {
            last_error: Some("Native host has exited.".into()),
        });
        assert_eq!(
            link.status(),
            &HostStatus::Reconnecting {
                attempt: 2,
                retry_in_ms: 500
            }
        );
        // A stale timer from generation 1 does nothing.
        assert!(
            link.handle(LinkInput::RetryTimer { generation: 1 })
                .is_empty()
        );
        let id = {
            link.handle(LinkInput::RetryTimer { generation: 2 });
            let acts = link.handle(LinkInput::Opened);
            let LinkAction::Send(v) = &acts[0] else {
                panic!()
            };
            v["id"].as_u64().unwrap()
        };
        link.handle(LinkInput::Message(Incoming::Response(Response::ok(
            id,
            info(),
        ))));
        assert!(link.is_connected());
        assert_eq!(link.stats().connects, 1 + 1);
        link.handle(LinkInput::Disconnected { last_error: None });
        assert_eq!(
            link.status(),
            &HostStatus::Reconnecting {
                attempt: 1,
                retry_in_ms: 250
            }
        );
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(HostLink::backoff_ms(1), 250);
        assert_eq!(HostLink::backoff_ms(2), 500);
        assert_eq!(HostLink::backoff_ms(8), 30_000);
        assert_eq!(HostLink::backoff_ms(u32::MAX), 30_000);
    }

    #[test]
    fn refusal_event_then_exit_shows_refused() {
        let mut link = HostLink::new("test");
        connect(&mut link);
        let ev = Event::host_error(ErrorBody::new(
            ErrorCode::OriginNotAllowed,
            "chrome-extension://x/ is not allowed",
        ));
        assert!(
            link.handle(LinkInput::Message(Incoming::Event(ev)))
                .is_empty()
        );
        link.handle(LinkInput::Disconnected {
            last_error: Some("Native host has exited.".into()),
        });
        assert_eq!(
            link.status(),
            &HostStatus::Refused {
                message: "chrome-extension://x/ is not allowed".into()
            }
        );
    }

    #[test]
    fn hello_error_is_incompatible_and_closes() {
        let mut link = HostLink::new("test");
        let id = connect(&mut link);
        let acts = link.handle(LinkInput::Message(Incoming::Response(Response::err(
            Some(id),
            ErrorBody::new(ErrorCode::UnsupportedVersion, "host speaks 2"),
        ))));
        assert!(acts.contains(&LinkAction::ClosePort));
        assert_eq!(
            link.status(),
            &HostStatus::Incompatible {
                message: "host speaks 2".into()
            }
        );
    }

    #[test]
    fn hello_timeout_closes_and_schedules_retry() {
        let mut link = HostLink::new("test");
        connect(&mut link);
        let acts = link.handle(LinkInput::HelloTimeout { generation: 1 });
        assert_eq!(acts[0], LinkAction::ClosePort);
        assert!(matches!(link.status(), HostStatus::Reconnecting { .. }));
        // A hello timer from an older connection is ignored.
        link.handle(LinkInput::RetryTimer { generation: 1 });
        link.handle(LinkInput::Opened);
        assert!(
            link.handle(LinkInput::HelloTimeout { generation: 1 })
                .is_empty()
        );
    }

    #[test]
    fn other_responses_are_delivered() {
        let mut link = HostLink::new("test");
        let id = connect(&mut link);
        link.handle(LinkInput::Message(Incoming::Response(Response::ok(
            id,
            info(),
        ))));
        let r = Response::ok(99, serde_json::json!({"payload": 1}));
        assert_eq!(
            link.handle(LinkInput::Message(Incoming::Response(r.clone()))),
            vec![LinkAction::Deliver(r)]
        );
    }

    #[test]
    fn connect_while_open_is_a_no_op() {
        let mut link = HostLink::new("test");
        connect(&mut link);
        assert!(link.handle(LinkInput::Connect).is_empty());
    }
}
