//! Winsorisation: capping a metric's extreme values at pooled percentiles before analysis
//! (Dixon 1960). The capping itself is [`causalkit_stats::winsor`]'s, re-exported here for A/B
//! users; `causalkit_data::winsor` applies `--winsorize`-style requests to a review's KPIs on
//! the rows.

pub use causalkit_stats::winsor::{winsorize, Caps};
