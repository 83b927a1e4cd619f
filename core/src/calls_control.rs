//! The call desk's controls: hold and resume, mute, DTMF, a second call
//! (answer, swap), transfers (blind, and attended: consult, then complete or
//! return), and do not disturb.
//!
//! Each control is a plan: the `call.control` requests the worker sends in
//! order (to the host, or the phone platform), each followed by
//! [`CallDesk::applied`] once it succeeded. Softphone events do the rest
//! (`CallDesk::on_event`).

use super::{CallDesk, DeskEffect, DeskRefusal, LiveCall, Phase};
use crate::call_control::dtmf_digits;
use crate::protocol::{CallAction, CallControlParams};

/// The requests of one control, in order.
pub type Plan = Vec<CallControlParams>;

fn on(call: &LiveCall, action: CallAction) -> Option<CallControlParams> {
    Some(CallControlParams::new(call.call_id.as_deref()?, action))
}

/// A transfer's target from what the agent typed or the call's number: a
/// SIP address as `uri`, anything else as an E.164 `number`.
fn to_target(mut p: CallControlParams, target: &str) -> CallControlParams {
    if target.starts_with("sip:") || target.starts_with("sips:") {
        p.uri = Some(target.to_owned());
    } else {
        p.number = Some(target.to_owned());
    }
    p
}

impl CallDesk {
    pub(super) fn is_other(&self, call_id: &str) -> bool {
        self.other
            .as_ref()
            .is_some_and(|l| l.call_id.as_deref() == Some(call_id))
    }

    /// The established call the controls act on.
    fn talking(&self) -> Result<&LiveCall, DeskRefusal> {
        self.live
            .as_ref()
            .filter(|l| l.phase == Phase::Established && l.call_id.is_some())
            .ok_or(DeskRefusal::NoCall)
    }

    /// The second call was answered: it becomes the agent's call, and the
    /// first one (held by the softphone as it answered) waits as the other.
    pub(super) fn second_answered(&mut self, call_id: &str, now_ms: f64) -> Vec<DeskEffect> {
        let mut effects = vec![];
        let Some(mut second) = self.other.take() else {
            return effects;
        };
        if second.phase == Phase::Incoming {
            effects.push(DeskEffect::ClearIncoming {
                call_id: call_id.to_owned(),
            });
        }
        if second.established_ms.is_none() {
            second.established_ms = Some(now_ms);
        }
        second.phase = Phase::Established;
        second.held = false;
        let mut first = self.live.take();
        if let Some(f) = first.as_mut()
            && f.phase == Phase::Established
        {
            f.held = true;
        }
        self.live = Some(second);
        self.other = first;
        effects
    }

    /// The second call ended (declined, hung up, or the caller gave up).
    pub(super) fn second_closed(
        &mut self,
        call_id: &str,
        reason: &str,
        now_ms: f64,
    ) -> Vec<DeskEffect> {
        let mut effects = vec![];
        if let Some(l) = self.other.take() {
            if l.phase == Phase::Incoming {
                effects.push(DeskEffect::ClearIncoming {
                    call_id: call_id.to_owned(),
                });
            }
            self.finish(l, Some(call_id.to_owned()), reason, now_ms);
        }
        effects
    }

    /// The extension dialled with the number (`x 227`): sent as DTMF once
    /// the call is established. Anything but keypad digits is dropped.
    pub fn set_extension(&mut self, extension: Option<&str>) {
        if let Some(l) = self.live.as_mut()
            && l.phase == Phase::Dialing
        {
            l.extension = extension.and_then(|e| dtmf_digits(e).ok());
        }
    }

    /// Hold, or resume when held (`UiCommand::ToggleHold`).
    pub fn toggle_hold(&self) -> Result<Plan, DeskRefusal> {
        let l = self.talking()?;
        let action = if l.held {
            CallAction::Resume
        } else {
            CallAction::Hold
        };
        // Resuming one call while another is live holds that one first.
        let mut plan = vec![];
        if l.held
            && let Some(o) = self.other.as_ref().filter(|o| !o.held)
        {
            plan.extend(on(o, CallAction::Hold));
        }
        plan.extend(on(l, action));
        Ok(plan)
    }

    /// Mute, or unmute when muted (`UiCommand::ToggleMute`).
    pub fn toggle_mute(&self) -> Result<Plan, DeskRefusal> {
        let l = self.talking()?;
        let action = if l.muted {
            CallAction::Unmute
        } else {
            CallAction::Mute
        };
        Ok(on(l, action).into_iter().collect())
    }

    /// Keypad digits during the call.
    pub fn dtmf(&self, digits: &str) -> Result<Plan, DeskRefusal> {
        let l = self.talking()?;
        let Ok(digits) = dtmf_digits(digits) else {
            return Ok(vec![]);
        };
        Ok(on(l, CallAction::Dtmf)
            .map(|mut p| {
                p.digits = Some(digits);
                p
            })
            .into_iter()
            .collect())
    }

    /// Answer the ringing call: the only one, or the second (the softphone
    /// holds the first as it answers).
    pub fn answer(&self) -> Result<Plan, DeskRefusal> {
        let ringing = [self.other.as_ref(), self.live.as_ref()]
            .into_iter()
            .flatten()
            .find(|l| l.phase == Phase::Incoming)
            .ok_or(DeskRefusal::NoCall)?;
        Ok(on(ringing, CallAction::Answer).into_iter().collect())
    }

    /// Hang up (or decline) a call: the one named, or the agent's.
    pub fn hang_up(&self, call_id: Option<&str>) -> Result<Plan, DeskRefusal> {
        let call = match call_id {
            Some(id) => [self.live.as_ref(), self.other.as_ref()]
                .into_iter()
                .flatten()
                .find(|l| l.call_id.as_deref() == Some(id)),
            None => self.live.as_ref(),
        }
        .ok_or(DeskRefusal::NoCall)?;
        Ok(on(call, CallAction::Hangup).into_iter().collect())
    }

    /// Swap between the two established calls: hold the agent's, resume the other.
    pub fn swap(&self) -> Result<Plan, DeskRefusal> {
        let l = self.talking()?;
        let o = self
            .other
            .as_ref()
            .filter(|o| o.phase == Phase::Established)
            .ok_or(DeskRefusal::NoCall)?;
        let mut plan = vec![];
        if !l.held {
            plan.extend(on(l, CallAction::Hold));
        }
        plan.extend(on(o, CallAction::Resume));
        Ok(plan)
    }

    /// Blind transfer of the agent's call to `target` (E.164 or SIP address).
    pub fn transfer(&self, target: &str) -> Result<Plan, DeskRefusal> {
        let l = self.talking()?;
        Ok(on(l, CallAction::Transfer)
            .map(|p| to_target(p, target))
            .into_iter()
            .collect())
    }

    /// Attended transfer, first step: what to send before dialling the third
    /// party (hold the caller); then [`CallDesk::consult`].
    pub fn consult_plan(&self) -> Result<Plan, DeskRefusal> {
        let l = self.talking()?;
        if self.other.is_some() {
            return Err(DeskRefusal::Busy);
        }
        Ok(if l.held {
            vec![]
        } else {
            on(l, CallAction::Hold).into_iter().collect()
        })
    }

    /// The caller is held: the consultation call starts dialling, and the
    /// caller waits as the other call.
    pub fn consult(&mut self, number: &str, display: &str, now_ms: f64) -> Result<(), DeskRefusal> {
        self.consult_plan()?;
        let mut caller = self.live.take().ok_or(DeskRefusal::NoCall)?;
        caller.held = true;
        let for_id = caller.call_id.clone();
        self.other = Some(caller);
        self.dial(number, display, now_ms)?;
        if let Some(l) = self.live.as_mut() {
            l.consult_for = for_id;
        }
        Ok(())
    }

    fn consulting(&self) -> Result<(&LiveCall, &LiveCall), DeskRefusal> {
        let l = self.live.as_ref().ok_or(DeskRefusal::NoCall)?;
        let o = self
            .other
            .as_ref()
            .filter(|o| o.call_id.is_some() && o.call_id == l.consult_for)
            .ok_or(DeskRefusal::NoCall)?;
        Ok((l, o))
    }

    /// Attended transfer, completed: the held caller is transferred to the
    /// party consulted, then the consultation ends. (baresip 1.0 has no
    /// REFER with Replaces: the caller calls the third party anew.) The
    /// caller goes first: ending the consultation first would let the
    /// softphone resume the caller by itself.
    pub fn complete_transfer(&self) -> Result<Plan, DeskRefusal> {
        let (l, o) = self.consulting()?;
        let mut plan: Plan = on(o, CallAction::Transfer)
            .map(|p| to_target(p, &l.number))
            .into_iter()
            .collect();
        plan.extend(on(l, CallAction::Hangup));
        Ok(plan)
    }

    /// Attended transfer, abandoned: the caller is resumed (and becomes the
    /// agent's call), then the consultation ends.
    pub fn return_to_caller(&self) -> Result<Plan, DeskRefusal> {
        let (l, o) = self.consulting()?;
        let mut plan: Plan = on(o, CallAction::Resume).into_iter().collect();
        plan.extend(on(l, CallAction::Hangup));
        Ok(plan)
    }

    /// One request of a plan succeeded: the state the agent sees follows.
    /// Resuming the other call makes it the agent's call.
    pub fn applied(&mut self, p: &CallControlParams) {
        let id = Some(p.call_id.as_str());
        let is = |l: &Option<LiveCall>| l.as_ref().is_some_and(|l| l.call_id.as_deref() == id);
        let in_other = is(&self.other);
        let Some(call) = (if in_other {
            self.other.as_mut()
        } else if is(&self.live) {
            self.live.as_mut()
        } else {
            None
        }) else {
            return;
        };
        match p.action {
            CallAction::Hold => call.held = true,
            CallAction::Resume => call.held = false,
            CallAction::Mute => call.muted = true,
            CallAction::Unmute => call.muted = false,
            _ => {}
        }
        if in_other && p.action == CallAction::Resume {
            std::mem::swap(&mut self.live, &mut self.other);
        }
    }

    /// The agent's do-not-disturb switch; `allowed` is the policy's word.
    pub fn set_dnd(&mut self, on: bool, allowed: bool) -> Result<(), DeskRefusal> {
        if on && !allowed {
            self.dnd = false;
            return Err(DeskRefusal::DndForbidden);
        }
        if on && !self.dnd {
            self.declined = 0;
        }
        self.dnd = on;
        Ok(())
    }
}

#[cfg(test)]
#[path = "calls_control_tests.rs"]
mod tests;
