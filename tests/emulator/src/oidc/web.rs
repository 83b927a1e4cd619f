//! Small HTTP helpers of the providers: Google's error page, HTML escaping,
//! redirects with a form-encoded query.

use super::*;

/// Google's error page for a bad authorization request (no redirect happens).
pub(super) fn error_page(status: StatusCode, error: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error {code}: {error}</title></head>\
         <body><h1>Access blocked: authorization error</h1><p id=\"error\">Error {code}: {error}</p><p id=\"message\">{message}</p></body></html>",
        code = status.as_u16()
    );
    (status, Html(body)).into_response()
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let sep = if uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{uri}{sep}{}", form_body(pairs))).into_response()
}

/// `k=v&...`, percent-encoded (form_urlencoded, as core uses).
pub(super) fn form_body(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// What the consent page says the app wants, as Google words it per scope.
pub(super) fn scope_words(scope: &str) -> String {
    let words: Vec<&str> = scope
        .split_whitespace()
        .filter_map(|s| match s.rsplit('/').next().unwrap_or(s) {
            "gmail.readonly" => Some("read your email messages and settings"),
            "drive.metadata.readonly" => Some("see information about your Google Drive files"),
            "calendar.readonly" => {
                Some("see and download any calendar you can access using your Google Calendar")
            }
            "contacts.readonly" => Some("see and download your contacts"),
            "directory.readonly" => Some("see and download your organization's directory"),
            _ => None,
        })
        .collect();
    if words.is_empty() {
        "see your email, profile and contacts".to_owned()
    } else {
        words.join(", ")
    }
}
