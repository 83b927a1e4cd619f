//! Call controls carried out: hold, mute, keypad, the second call, transfers
//! and do not disturb. The plans are `ringside_core::calls` (its
//! `calls_control`); this sends each request and records it.

use ringside_core::calls::DeskEffect;
use ringside_core::dialers::CallPath;
use ringside_core::protocol::{CallAction, CallControlParams, DialParams, NoParams, Request};
use ringside_core::surface::UiCommand;
use ringside_core::worker::call_out::DialFailure;

use super::call_out;
use super::kernel::{broadcast, now_ms, sleep, softphone_request, with_worker};
use crate::chrome;

async fn send(p: &CallControlParams) -> Result<(), DialFailure> {
    match call_out::path() {
        CallPath::Platform => call_out::control(p).await,
        _ => softphone_request(Request::CallControl(p.clone()))
            .await
            .map(|_| ())
            .map_err(|e| DialFailure::of_host(&e)),
    }
}

/// Sends a plan in order; stops at the first failure, which the popup shows.
async fn carry_out(plan: Vec<CallControlParams>) -> bool {
    for p in plan {
        if let Err(f) = send(&p).await {
            with_worker(|w| w.desk.notify(f.key, &f.detail, ""));
            broadcast();
            return false;
        }
        with_worker(|w| w.desk.applied(&p));
        broadcast();
    }
    true
}

/// A popup, notification or keyboard command about the calls.
pub(super) async fn run(cmd: UiCommand) {
    let planned = with_worker(|w| {
        let d = &mut w.desk;
        match &cmd {
            UiCommand::ToggleHold => d.toggle_hold(),
            UiCommand::ToggleMute => d.toggle_mute(),
            UiCommand::SendDtmf { digits } => d.dtmf(digits),
            UiCommand::SwapCalls => d.swap(),
            UiCommand::Hangup => d.hang_up(None),
            UiCommand::EndCall { call_id } => d.hang_up(Some(call_id)),
            UiCommand::Answer => d.answer(),
            UiCommand::Transfer { target } => d.transfer(target.trim()),
            UiCommand::Consult { .. } => d.consult_plan(),
            UiCommand::CompleteTransfer => d.complete_transfer(),
            UiCommand::ReturnToCaller => d.return_to_caller(),
            UiCommand::SetDnd { on } => {
                let allowed = w.settings.dnd_allowed();
                w.desk.set_dnd(*on, allowed).map(|()| vec![])
            }
            _ => Ok(vec![]),
        }
    });
    let plan = match planned {
        Some(Ok(plan)) => plan,
        Some(Err(refusal)) => {
            with_worker(|w| {
                w.desk
                    .notify(refusal.message_key(), &refusal.to_string(), "")
            });
            broadcast();
            return;
        }
        None => return,
    };
    // A call not yet known by id (still dialling), or the platform's call
    // (hung up with DELETE): the plain requests.
    if (plan.is_empty() || call_out::path() == CallPath::Platform)
        && matches!(cmd, UiCommand::Hangup | UiCommand::Answer)
    {
        let legacy = if cmd == UiCommand::Hangup {
            Request::Hangup(NoParams {})
        } else {
            Request::Answer(NoParams {})
        };
        call_out::call_control(legacy).await;
        return;
    }
    if !carry_out(plan).await {
        return;
    }
    if let UiCommand::Consult { target } = cmd {
        consult(target.trim().to_owned()).await;
    }
    badge();
    broadcast();
}

/// Attended transfer: the caller is held; the third party is dialled.
async fn consult(target: String) {
    let started = with_worker(|w| w.desk.consult(&target, &target, now_ms()));
    if let Some(Err(refusal)) = started {
        with_worker(|w| {
            w.desk
                .notify(refusal.message_key(), &refusal.to_string(), "")
        });
        broadcast();
        return;
    }
    broadcast();
    let sip = target.starts_with("sip:") || target.starts_with("sips:");
    let params = DialParams {
        number: (!sip).then(|| target.clone()),
        uri: sip.then(|| target.clone()),
        extension: None,
        confirmed: true,
    };
    if let Err(f) = call_out::send_dial(params, target).await {
        with_worker(|w| w.desk.dial_failed(f.key, &f.detail));
    }
    broadcast();
}

/// What the desk asks after an event: decline a call (do not disturb), or
/// send the dialled extension after the pause.
pub(super) async fn effect(fx: DeskEffect) {
    let p = match fx {
        DeskEffect::Decline { call_id } => CallControlParams::new(&call_id, CallAction::Hangup),
        DeskEffect::KeepHeld { call_id } => CallControlParams::new(&call_id, CallAction::Hold),
        DeskEffect::SendDtmf { call_id, digits } => {
            let pause = with_worker(|w| w.settings.dtmf_pause()).unwrap_or_default();
            sleep(pause).await;
            let mut p = CallControlParams::new(&call_id, CallAction::Dtmf);
            p.digits = Some(digits);
            p
        }
        _ => return,
    };
    carry_out(vec![p]).await;
    badge();
}

/// The toolbar badge says when do not disturb is on.
pub(super) fn badge() {
    let on = with_worker(|w| w.desk.dnd).unwrap_or(false);
    let text = if on {
        chrome::get_message("dndBadge", &[])
    } else {
        String::new()
    };
    chrome::set_badge(&text);
}
