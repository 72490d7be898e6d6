//! Synthetic DiD for a single treated unit (in progress).
