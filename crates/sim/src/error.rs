//! Error type of the simulator.

use std::path::PathBuf;

/// Errors returned by [`crate::write_contact_centre`] and
/// [`crate::ContactCentreConfig::validate`].
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A configuration parameter is out of range.
    #[error("invalid simulation config: `{field}` {reason}")]
    InvalidConfig {
        /// Path of the offending field, e.g. `"sites"` or `"intents[2].fcr_base"`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Creating a directory or writing a file failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising `truth.json` failed.
    #[error("failed to serialise truth.json: {0}")]
    Json(#[from] serde_json::Error),
}

impl SimError {
    /// The offending field for [`SimError::InvalidConfig`], `None` otherwise.
    pub fn field(&self) -> Option<&str> {
        match self {
            SimError::InvalidConfig { field, .. } => Some(field),
            _ => None,
        }
    }
}
