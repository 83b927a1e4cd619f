//! What the emulator's tests share: one request through the whole router,
//! and a contact sync driven by Ringside's own run rules
//! (`ringside_core::contacts::run`), kept the way the worker keeps it.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, header};
use http_body_util::BodyExt;
use ringside_core::contacts::run::{Next, Run};
use ringside_core::contacts::sync::{Step, SyncState};
use ringside_core::contacts::{Source, StoredContact};
use ringside_core::context::ApiRoots;
use tower::ServiceExt;

pub const HOST: &str = "127.0.0.1:7";
pub const BASE: &str = "http://127.0.0.1:7";
pub const REDIRECT: &str = "https://fempdkhheodefkjhkbekalfieneojckb.chromiumapp.org/";

/// One request (a full `BASE` URL or a path): status, headers, body.
pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> (u16, HeaderMap, String) {
    let uri = uri.strip_prefix(BASE).unwrap_or(uri);
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, HOST);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some((ctype, b)) => {
            req = req.header(header::CONTENT_TYPE, ctype);
            Body::from(b)
        }
        None => Body::empty(),
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// What the worker keeps: contacts by id, and how many pages it stored.
#[derive(Default)]
pub struct Store {
    pub contacts: HashMap<String, StoredContact>,
    pub pages: usize,
}

impl Store {
    pub fn count(&self, source: Source) -> usize {
        self.contacts
            .values()
            .filter(|c| c.source == source)
            .count()
    }
}

/// Why a run stopped before its end. The worker would sleep through
/// `Wait`; a test stops there to check that the next run resumes.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    Wait(u32),
    Fail(String, Vec<String>),
}

/// Runs (or resumes) one sync run of `source` to its end or its first stop.
pub async fn sync(
    app: &Router,
    token: &str,
    source: Source,
    roots: &ApiRoots,
    state: &mut SyncState,
    store: &mut Store,
) -> Result<(), Stop> {
    let bearer = format!("Bearer {token}");
    let mut run = Run::start(source, state.clone(), roots);
    loop {
        let fetch = run.request(roots);
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend(fetch.headers.iter().map(|(k, v)| (*k, v.as_str())));
        let (s, h, body) = send(app, Method::GET, &fetch.url, &headers, None).await;
        let retry = h.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok());
        let mut page = match run.answer(roots, s, &body, retry) {
            Next::Again => continue,
            Next::Wait(ms) => return Err(Stop::Wait(ms)),
            Next::Fail(key, subs) => return Err(Stop::Fail(key, subs)),
            Next::Page(p) => p,
        };
        store.pages += 1;
        let (step, deletes) = run.apply(&mut page, 0, store.contacts.values());
        for id in &deletes {
            store.contacts.remove(id);
        }
        for c in page.upserts {
            store.contacts.insert(c.id.clone(), c);
        }
        // Saved with each page, as the worker saves it beside the contacts.
        *state = run.state.clone();
        if matches!(step, Step::Done { .. }) {
            return Ok(());
        }
    }
}
