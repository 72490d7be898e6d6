//! The layout shared by the single-treated-unit estimators, the Abadie synthetic control
//! ([`crate::abadie`]) and the augmented SC ([`crate::ascm`]): which row is treated, from which
//! period, the donor pool, unit names and period labels. Their builder setters and the checks
//! of the layout are written once here; each estimator turns a [`LayoutError`] into its own
//! error type.

use nalgebra::DMatrix;

/// A unit's name, or `unit<i>` when the units are not named.
pub(crate) fn unit_name(names: Option<&[String]>, i: usize) -> String {
    names
        .and_then(|n| n.get(i).cloned())
        .unwrap_or_else(|| format!("unit{i}"))
}

/// A period's label, or its index when the periods are not labelled.
pub(crate) fn period_label(labels: Option<&[String]>, t: usize) -> String {
    labels
        .and_then(|n| n.get(t).cloned())
        .unwrap_or_else(|| t.to_string())
}

/// What is wrong with a layout, in the order [`Layout::check`] looks.
#[derive(Debug)]
pub(crate) enum LayoutError {
    /// An argument (named) is out of range or has the wrong length: (argument, reason).
    Invalid(&'static str, String),
    /// Fewer than 2 pre-treatment periods (the number found).
    TooFewPrePeriods(usize),
    /// The treatment period leaves no post period (the reason).
    NoPostPeriod(String),
    /// The treated unit (its name) is among the donors.
    TreatedAmongDonors(String),
    /// Fewer than 2 donors (the number found).
    TooFewDonors(usize),
    /// A non-finite outcome of the treated unit or a donor.
    NonFinite {
        /// The unit's name.
        unit: String,
        /// The period's label.
        period: String,
        /// The value.
        value: f64,
    },
}

/// A borrowed view of a single-unit estimator's layout.
pub(crate) struct Layout<'a> {
    /// The outcomes, units x periods.
    pub y: &'a DMatrix<f64>,
    /// The treated unit's row.
    pub treated: usize,
    /// The first post period's index.
    pub t0: usize,
    /// The donor pool (default: every other unit).
    pub donors: Option<&'a [usize]>,
    /// The unit names.
    pub unit_names: Option<&'a [String]>,
    /// The period labels.
    pub period_labels: Option<&'a [String]>,
}

impl Layout<'_> {
    fn unit_name(&self, i: usize) -> String {
        unit_name(self.unit_names, i)
    }

    /// Checks, in this order: the treated row is in range, names and labels have one entry per
    /// unit and period, at least 2 pre-periods and 1 post period, the donors are in range,
    /// neither the treated unit nor listed twice, at least 2 of them, and the outcomes of the
    /// treated unit and the donors are finite. Returns the donor list.
    pub(crate) fn check(&self) -> Result<Vec<usize>, LayoutError> {
        let (n, t) = self.y.shape();
        if self.treated >= n {
            return Err(LayoutError::Invalid(
                "treated",
                format!(
                    "unit index {} is out of range (there are {n} units)",
                    self.treated
                ),
            ));
        }
        if let Some(names) = self.unit_names {
            if names.len() != n {
                return Err(LayoutError::Invalid(
                    "unit_names",
                    format!("{} names for {n} units", names.len()),
                ));
            }
        }
        if let Some(l) = self.period_labels {
            if l.len() != t {
                return Err(LayoutError::Invalid(
                    "period_labels",
                    format!("{} labels for {t} periods", l.len()),
                ));
            }
        }
        if self.t0 < 2 {
            return Err(LayoutError::TooFewPrePeriods(self.t0));
        }
        if self.t0 >= t {
            return Err(LayoutError::NoPostPeriod(format!(
                "treatment period index {} leaves no post period ({t} periods)",
                self.t0
            )));
        }
        let donors: Vec<usize> = match self.donors {
            Some(d) => d.to_vec(),
            None => (0..n).filter(|&i| i != self.treated).collect(),
        };
        for (pos, &d) in donors.iter().enumerate() {
            if d >= n {
                return Err(LayoutError::Invalid(
                    "donors",
                    format!("donor index {d} is out of range (there are {n} units)"),
                ));
            }
            if d == self.treated {
                return Err(LayoutError::TreatedAmongDonors(self.unit_name(d)));
            }
            if donors[..pos].contains(&d) {
                return Err(LayoutError::Invalid(
                    "donors",
                    format!("donor `{}` is listed twice", self.unit_name(d)),
                ));
            }
        }
        if donors.len() < 2 {
            return Err(LayoutError::TooFewDonors(donors.len()));
        }
        for &u in std::iter::once(&self.treated).chain(&donors) {
            for p in 0..t {
                let value = self.y[(u, p)];
                if !value.is_finite() {
                    return Err(LayoutError::NonFinite {
                        unit: self.unit_name(u),
                        period: period_label(self.period_labels, p),
                        value,
                    });
                }
            }
        }
        Ok(donors)
    }
}

/// The builder methods shared by [`crate::abadie::SyntheticControl`] and
/// [`crate::ascm::AugmentedSc`], both of which have the fields `treated`, `t0`, `donors`,
/// `unit_names` and `period_labels` and their outcome matrix in the field named by the
/// argument: the public setters `donors`, `unit_names` and `period_labels`, and the private
/// `unit_name`, `period_label` and `layout`. (A macro because the setters are by-value builder
/// methods of two public types; a trait would make every caller import it.)
macro_rules! single_unit_builder {
    ($y:ident) => {
        /// Sets the donor pool (unit indices); default: every unit except the treated one.
        pub fn donors(mut self, donors: Vec<usize>) -> Self {
            self.donors = Some(donors);
            self
        }

        /// Names the units (used in weights, diagnostics and errors).
        pub fn unit_names(mut self, names: Vec<String>) -> Self {
            self.unit_names = Some(names);
            self
        }

        /// Labels the periods (e.g. years).
        pub fn period_labels(mut self, labels: Vec<String>) -> Self {
            self.period_labels = Some(labels);
            self
        }

        fn unit_name(&self, i: usize) -> String {
            $crate::units::unit_name(self.unit_names.as_deref(), i)
        }

        fn period_label(&self, t: usize) -> String {
            $crate::units::period_label(self.period_labels.as_deref(), t)
        }

        fn layout(&self) -> $crate::units::Layout<'_> {
            $crate::units::Layout {
                y: &self.$y,
                treated: self.treated,
                t0: self.t0,
                donors: self.donors.as_deref(),
                unit_names: self.unit_names.as_deref(),
                period_labels: self.period_labels.as_deref(),
            }
        }
    };
}
pub(crate) use single_unit_builder;
