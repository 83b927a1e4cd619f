//! A call to the provider's APIs with the agent's access token, as a
//! conversation: [`ApiCall::start`] says what to send, then the worker tells
//! it each answer ([`ApiCall::answer`]), each refresh ([`ApiCall::refreshed`])
//! and each interactive re-authentication ([`ApiCall::reauthenticated`]),
//! and it says what comes next.
//!
//! The policy: a 401 gets one silent refresh and the request again; a second
//! 401 ends the session (cause "unauthorized"). A claims challenge
//! (Microsoft continuous access evaluation: `insufficient_claims` with
//! `claims`) is answered once with the interactive flow; if that fails, or a
//! second challenge comes, the session ends. Graph's 401 for an account
//! without a mailbox is not about the token: it is the answer, and the
//! session goes on. A refresh that fails ends nothing here (the refresh
//! itself decides whether the session ends).

use super::http::{HttpAnswer, HttpRequest};
use crate::auth::revocation::Cause;
use crate::auth::token::parse_bearer_challenge;
use crate::contacts::graph::mailbox_unavailable;

/// What the worker does next.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiStep {
    /// Send the request with the current access token.
    Send(HttpRequest),
    /// Refresh the access token silently, then tell [`ApiCall::refreshed`].
    Refresh,
    /// Run the interactive flow with these claims, then tell
    /// [`ApiCall::reauthenticated`].
    Reauthenticate { claims: String },
    /// The answer to give the caller.
    Done(HttpAnswer),
    /// No answer: the agent is signed out. With a cause, the session ends
    /// for that cause (the worker hands it to the auth reducer).
    SignedOut(Option<Cause>),
}

/// One API call in progress.
#[derive(Debug, Clone)]
pub struct ApiCall {
    request: HttpRequest,
    /// Whether the token was already renewed once (refresh or challenge).
    renewed: bool,
}

impl ApiCall {
    /// Starts the call: the first step is always [`ApiStep::Send`].
    pub fn start(request: HttpRequest) -> (ApiCall, ApiStep) {
        let step = ApiStep::Send(request.clone());
        (
            ApiCall {
                request,
                renewed: false,
            },
            step,
        )
    }

    /// The request this call sends.
    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// No access token to send: the agent is not signed in.
    pub fn no_token(&self) -> ApiStep {
        ApiStep::SignedOut(None)
    }

    /// The server answered.
    pub fn answer(&mut self, a: HttpAnswer) -> ApiStep {
        if a.status != 401 || mailbox_unavailable(a.status, &a.body) {
            return ApiStep::Done(a);
        }
        let challenge = a
            .www_authenticate
            .as_deref()
            .and_then(parse_bearer_challenge)
            .filter(|c| c.is_claims_challenge());
        if let Some(c) = challenge {
            if self.renewed {
                return ApiStep::SignedOut(Some(Cause::ClaimsChallengeFailed));
            }
            self.renewed = true;
            return ApiStep::Reauthenticate {
                claims: c.claims.unwrap_or_default(),
            };
        }
        if self.renewed {
            return ApiStep::SignedOut(Some(Cause::Unauthorized));
        }
        self.renewed = true;
        ApiStep::Refresh
    }

    /// The silent refresh is done: whether the session goes on.
    pub fn refreshed(&mut self, ok: bool) -> ApiStep {
        if ok {
            ApiStep::Send(self.request.clone())
        } else {
            ApiStep::SignedOut(None)
        }
    }

    /// The interactive flow is done: whether the same agent came back.
    pub fn reauthenticated(&mut self, ok: bool) -> ApiStep {
        if ok {
            ApiStep::Send(self.request.clone())
        } else {
            ApiStep::SignedOut(Some(Cause::ClaimsChallengeFailed))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> ApiCall {
        let (call, step) = ApiCall::start(HttpRequest::get("https://api.example/x"));
        assert_eq!(
            step,
            ApiStep::Send(HttpRequest::get("https://api.example/x"))
        );
        call
    }

    fn unauthorized() -> HttpAnswer {
        HttpAnswer::new(401, "")
    }

    fn challenge() -> HttpAnswer {
        // claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ==" is {"access_token":{}} in base64.
        HttpAnswer {
            www_authenticate: Some(
                r#"Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ==""#
                    .into(),
            ),
            ..unauthorized()
        }
    }

    #[test]
    fn a_success_is_the_answer() {
        let mut c = start();
        assert_eq!(
            c.answer(HttpAnswer::new(200, "{}")),
            ApiStep::Done(HttpAnswer::new(200, "{}"))
        );
    }

    #[test]
    fn other_errors_are_the_answer_not_a_sign_out() {
        for status in [403, 404, 429, 500] {
            let mut c = start();
            assert_eq!(
                c.answer(HttpAnswer::new(status, "")),
                ApiStep::Done(HttpAnswer::new(status, ""))
            );
        }
    }

    #[test]
    fn a_401_refreshes_once_and_sends_again() {
        let mut c = start();
        assert_eq!(c.answer(unauthorized()), ApiStep::Refresh);
        assert_eq!(c.refreshed(true), ApiStep::Send(c.request().clone()));
        assert_eq!(
            c.answer(HttpAnswer::new(200, "ok")),
            ApiStep::Done(HttpAnswer::new(200, "ok"))
        );
    }

    #[test]
    fn a_second_401_ends_the_session() {
        let mut c = start();
        assert_eq!(c.answer(unauthorized()), ApiStep::Refresh);
        c.refreshed(true);
        assert_eq!(
            c.answer(unauthorized()),
            ApiStep::SignedOut(Some(Cause::Unauthorized))
        );
    }

    #[test]
    fn a_failed_refresh_gives_no_answer_and_no_cause_of_its_own() {
        let mut c = start();
        c.answer(unauthorized());
        assert_eq!(c.refreshed(false), ApiStep::SignedOut(None));
    }

    #[test]
    fn a_claims_challenge_is_answered_interactively_once() {
        let mut c = start();
        assert_eq!(
            c.answer(challenge()),
            ApiStep::Reauthenticate {
                claims: r#"{"access_token":{}}"#.into()
            }
        );
        assert_eq!(c.reauthenticated(true), ApiStep::Send(c.request().clone()));
        assert_eq!(
            c.answer(challenge()),
            ApiStep::SignedOut(Some(Cause::ClaimsChallengeFailed))
        );
    }

    #[test]
    fn a_failed_reauthentication_ends_the_session() {
        let mut c = start();
        c.answer(challenge());
        assert_eq!(
            c.reauthenticated(false),
            ApiStep::SignedOut(Some(Cause::ClaimsChallengeFailed))
        );
    }

    #[test]
    fn graphs_mailbox_401_is_an_answer() {
        let mut c = start();
        let body = r#"{"error":{"code":"MailboxNotEnabledForRESTAPI","message":"x"}}"#;
        assert_eq!(
            c.answer(HttpAnswer::new(401, body)),
            ApiStep::Done(HttpAnswer::new(401, body))
        );
    }

    #[test]
    fn no_token_means_signed_out() {
        assert_eq!(start().no_token(), ApiStep::SignedOut(None));
    }
}
