//! The one audit-event builder: every state change appends its event inside the change's own
//! transaction, so a committed change always has its event and a rolled-back one never does.

use zizhi_store::Tx;
use zizhi_store::audit::{self, Event, NewEvent, Verification};

use crate::policy::Action;
use crate::policy::Actor;
use crate::{App, Result};

/// Who acted: a signed-in person, or the system (a background job, named).
#[derive(Debug, Clone, Copy)]
pub(crate) enum By<'a> {
    Person(&'a Actor),
    System(&'a str),
}

impl<'a> From<Option<&'a Actor>> for By<'a> {
    fn from(a: Option<&'a Actor>) -> Self {
        a.map_or(By::System("system"), By::Person)
    }
}

impl<'a> From<&'a Actor> for By<'a> {
    fn from(a: &'a Actor) -> Self {
        By::Person(a)
    }
}

/// Appends one audit event: `action` done by `by` on the object `object_type`/`object_id`.
pub(crate) async fn record<'a>(
    tx: &mut Tx,
    by: impl Into<By<'a>>,
    action: &str,
    object_type: &str,
    object_id: impl ToString,
    summary: serde_json::Value,
) -> Result<()> {
    let (actor_id, actor) = match by.into() {
        By::Person(a) => (Some(a.user_id), a.username.clone()),
        By::System(name) => (None, name.to_string()),
    };
    audit::append(
        tx,
        NewEvent {
            actor_id,
            actor,
            action: action.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            summary,
        },
    )
    .await?;
    Ok(())
}

impl App {
    pub async fn audit_log(
        &self,
        actor: &Actor,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        self.authorize(actor, &Action::ViewAuditLog)?;
        Ok(audit::list(&self.db, before_seq, limit.clamp(1, 500)).await?)
    }

    /// Verifies the chain (`None` actor = the command line).
    pub async fn verify_audit(&self, actor: Option<&Actor>) -> Result<Verification> {
        if let Some(a) = actor {
            self.authorize(a, &Action::VerifyAuditChain)?;
        }
        Ok(audit::verify(&self.db).await?)
    }
}
