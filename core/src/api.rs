//! The provider APIs as every flow sees them, whichever source or section
//! asks: where they are ([`ApiRoots`]), what a failed answer means
//! ([`ApiFailure`], [`classify`]), how long to wait before asking again
//! ([`retry_delay_ms`]), and the RFC 3339 dates they speak. The contact
//! store (`contacts`) and the side panel (`context`) both build on this
//! module instead of on each other.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Graph's own root, unless policy sets `graphApiRoot`.
pub const GRAPH_ROOT: &str = "https://graph.microsoft.com/v1.0";

/// Where the Google APIs are. Google's own hosts unless policy sets a root
/// (a Private Google Access gateway, or the emulator in tests): then
/// `{root}/people/v1`, `{root}/gmail/v1`, `{root}/drive/v3`, `{root}/calendar/v3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoots {
    pub people: String,
    pub gmail: String,
    pub drive: String,
    pub calendar: String,
    /// Microsoft Graph (`graphApiRoot`, else Graph's own v1.0 root).
    pub graph: String,
}

impl Default for ApiRoots {
    fn default() -> Self {
        ApiRoots {
            people: "https://people.googleapis.com/v1".into(),
            gmail: "https://gmail.googleapis.com/gmail/v1".into(),
            drive: "https://www.googleapis.com/drive/v3".into(),
            calendar: "https://www.googleapis.com/calendar/v3".into(),
            graph: GRAPH_ROOT.into(),
        }
    }
}

impl ApiRoots {
    pub fn under(root: &str) -> ApiRoots {
        let r = root.trim_end_matches('/');
        ApiRoots {
            people: format!("{r}/people/v1"),
            gmail: format!("{r}/gmail/v1"),
            drive: format!("{r}/drive/v3"),
            calendar: format!("{r}/calendar/v3"),
            graph: GRAPH_ROOT.into(),
        }
    }
}

/// Attempts per section load (the first and two retries).
pub const MAX_ATTEMPTS: u32 = 3;
/// The longest wait between attempts, whatever Retry-After says.
pub const MAX_DELAY_MS: u32 = 30_000;
/// The wait before attempt `attempt + 1` after `failure`, or None when the
/// section should give up (not retryable, or out of attempts).
pub fn retry_delay_ms(failure: &ApiFailure, attempt: u32) -> Option<u32> {
    if !failure.retryable() || attempt + 1 >= MAX_ATTEMPTS {
        return None;
    }
    let after = match failure {
        ApiFailure::RateLimited { retry_after } | ApiFailure::Server { retry_after, .. } => {
            *retry_after
        }
        _ => None,
    };
    let backoff = 500u32.saturating_mul(1 << attempt.min(6));
    Some(match after {
        Some(s) => u32::try_from(s.saturating_mul(1000))
            .unwrap_or(u32::MAX)
            .min(MAX_DELAY_MS),
        None => backoff.min(MAX_DELAY_MS),
    })
}

/// Why a Google API call gave nothing, in terms of what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    /// 401: the access token is no longer accepted (refresh once).
    Unauthorized,
    /// 403 `ACCESS_TOKEN_SCOPE_INSUFFICIENT` / `insufficientPermissions`:
    /// the integration is not connected; show Connect.
    InsufficientScope,
    /// 429, or 403 rate-limit reasons: retry after the delay (Retry-After
    /// when given, in seconds).
    RateLimited { retry_after: Option<u64> },
    /// 5xx: retry with backoff.
    Server {
        status: u16,
        retry_after: Option<u64>,
    },
    /// The API is off for the project or the account (403 `SERVICE_DISABLED`,
    /// `accessNotConfigured`), or anything else: not retried.
    Refused { status: u16, message: String },
}

impl ApiFailure {
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ApiFailure::RateLimited { .. } | ApiFailure::Server { .. }
        )
    }
}

/// Classifies a non-2xx answer from Google's JSON error body.
pub fn classify(status: u16, body: &str, retry_after: Option<&str>) -> ApiFailure {
    let retry_after = retry_after.and_then(|r| r.trim().parse::<u64>().ok());
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let mut reasons: Vec<String> = err["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["reason"].as_str().map(str::to_owned))
        .collect();
    reasons.extend(
        err["details"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["reason"].as_str().map(str::to_owned)),
    );
    let has = |r: &str| reasons.iter().any(|x| x == r);
    match status {
        401 => ApiFailure::Unauthorized,
        403 if has("ACCESS_TOKEN_SCOPE_INSUFFICIENT") || has("insufficientPermissions") => {
            ApiFailure::InsufficientScope
        }
        403 if has("rateLimitExceeded")
            || has("userRateLimitExceeded")
            || has("RATE_LIMIT_EXCEEDED") =>
        {
            ApiFailure::RateLimited { retry_after }
        }
        429 => ApiFailure::RateLimited { retry_after },
        500..=599 => ApiFailure::Server {
            status,
            retry_after,
        },
        _ => ApiFailure::Refused {
            status,
            message: err["message"].as_str().unwrap_or_default().to_owned(),
        },
    }
}

/// Milliseconds since the epoch for an RFC 3339 date-time, or a date
/// (midnight UTC). None when it does not parse.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> { s.get(a..b)?.parse().ok() };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if s.get(4..5)? != "-"
        || s.get(7..8)? != "-"
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if s.len() == 10 {
        return Some(days * 86_400_000);
    }
    if !matches!(s.get(10..11)?, "T" | "t" | " ") {
        return None;
    }
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = s.get(19..)?;
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        ms = first3.parse::<i64>().ok()?;
        rest = &frac[digits.len()..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 60 + om)
        }
    };
    Some(((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1000 + ms)
}

/// RFC 3339 in UTC (`2026-09-01T10:00:00Z`).
pub fn ms_to_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// Howard Hinnant's civil-date algorithms (public domain description).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Why a call gave no answer at all (the executor's side of an API call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    /// Not signed in, or the session just ended.
    SignedOut,
    /// Network trouble (the browser's words); the session is fine.
    Network(String),
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
