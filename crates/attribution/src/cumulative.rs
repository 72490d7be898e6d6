//! Cumulative effect and money by period (in progress).
