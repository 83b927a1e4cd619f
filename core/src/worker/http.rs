//! One HTTP exchange as the worker's flows see it: what to send, what came
//! back. The worker turns a [`HttpRequest`] into one `fetch` (no cookies, no
//! cache) and its response into a [`HttpAnswer`].

use serde_json::Value;

/// What to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// None: GET, or POST when there is a body.
    pub method: Option<String>,
    pub url: String,
    /// A form body (`application/x-www-form-urlencoded`).
    pub form: Option<Vec<(String, String)>>,
    /// A JSON body.
    pub json: Option<Value>,
    /// Extra headers (Graph's `Prefer`, `If-Match`).
    pub headers: Vec<(String, String)>,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: None,
            url: url.into(),
            form: None,
            json: None,
            headers: vec![],
        }
    }

    pub fn post_json(url: impl Into<String>, json: Value) -> HttpRequest {
        HttpRequest {
            json: Some(json),
            ..HttpRequest::get(url)
        }
    }

    pub fn post_form(url: impl Into<String>, form: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            form: Some(
                form.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..HttpRequest::get(url)
        }
    }

    pub fn with_method(mut self, method: &str) -> HttpRequest {
        self.method = Some(method.to_owned());
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// What came back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub body: String,
    pub cache_control: Option<String>,
    /// A 401's Bearer challenge.
    pub www_authenticate: Option<String>,
    /// Seconds to wait before retrying (429, 503).
    pub retry_after: Option<String>,
}

impl HttpAnswer {
    pub fn new(status: u16, body: impl Into<String>) -> HttpAnswer {
        HttpAnswer {
            status,
            body: body.into(),
            ..HttpAnswer::default()
        }
    }
}
