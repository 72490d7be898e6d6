//! Public record types of the simulated contact logs.

use serde::{Deserialize, Serialize};

/// Customer tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// `"bronze"`.
    Bronze,
    /// `"silver"`.
    Silver,
    /// `"gold"`.
    Gold,
}

impl Tier {
    /// All tiers in the order of [`crate::ContactCentreConfig::tier_shares`].
    pub const ALL: [Tier; 3] = [Tier::Bronze, Tier::Silver, Tier::Gold];

    /// The CSV label: `"bronze"`, `"silver"` or `"gold"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Bronze => "bronze",
            Tier::Silver => "silver",
            Tier::Gold => "gold",
        }
    }

    /// Position in [`Tier::ALL`].
    pub fn index(self) -> usize {
        match self {
            Tier::Bronze => 0,
            Tier::Silver => 1,
            Tier::Gold => 2,
        }
    }
}

/// Arm of the A/B design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arm {
    /// Old routing, `"control"`.
    Control,
    /// New intent-routing model, `"treatment"`.
    Treatment,
}

impl Arm {
    /// The CSV label: `"control"` or `"treatment"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Control => "control",
            Arm::Treatment => "treatment",
        }
    }
}

/// Design-specific assignment of a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Assignment {
    /// A/B design: contact-level 50/50 randomisation.
    Ab {
        /// The contact's arm.
        arm: Arm,
    },
    /// Staggered rollout design.
    Staggered {
        /// First treated day of the contact's site, 0 = never treated.
        adoption_day: u32,
        /// Whether the model was live: site adopted and `day >= adoption_day`.
        model_live: bool,
    },
}

/// One simulated contact (one CSV row).
///
/// Identifiers are numeric here; the CSV writes them as labels: `site_01`,
/// `site_01_agent_07`, `cust_000042` (see [`Contact::site_label`] etc.).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Contact id, 1-based and sequential within a design (ordered by day).
    pub contact_id: u64,
    /// Day, 1..=days (day 1 is a Monday).
    pub day: u32,
    /// Site number, 1-based.
    pub site: u32,
    /// Agent number within the site, 1-based.
    pub agent: u32,
    /// Index into [`crate::ContactCentreConfig::intents`] (name and queue come from there).
    pub intent: usize,
    /// Customer number, 1-based.
    pub customer_id: u32,
    /// Customer tier.
    pub customer_tier: Tier,
    /// The customer's average handle time in the pre-period (seconds), a CUPED covariate.
    pub pre_handle_seconds: f64,
    /// Handle time (seconds), always positive.
    pub handle_seconds: f64,
    /// First-contact resolution.
    pub fcr: bool,
    /// CSAT score 1..=5 if the contact was surveyed, `None` otherwise.
    pub csat: Option<u8>,
    /// Whether the customer contacted again about the same issue.
    pub repeat_contact: bool,
    /// Design-specific assignment.
    pub assignment: Assignment,
}

impl Contact {
    /// Whether the contact received the new model (A/B treatment arm, or staggered
    /// `model_live`).
    pub fn is_treated(&self) -> bool {
        match self.assignment {
            Assignment::Ab { arm } => arm == Arm::Treatment,
            Assignment::Staggered { model_live, .. } => model_live,
        }
    }

    /// Site label, e.g. `"site_01"`.
    pub fn site_label(&self) -> String {
        site_label(self.site)
    }

    /// Agent label, e.g. `"site_01_agent_07"`.
    pub fn agent_label(&self) -> String {
        format!("{}_agent_{:02}", site_label(self.site), self.agent)
    }

    /// Customer label, e.g. `"cust_000042"`.
    pub fn customer_label(&self) -> String {
        format!("cust_{:06}", self.customer_id)
    }
}

/// Label of 1-based site number `site`, e.g. `"site_01"`.
pub fn site_label(site: u32) -> String {
    format!("site_{site:02}")
}
