//! Where a release's rows live: in memory (a file the spec names, or a frame a library user
//! built), or in a table of a query engine (`[data] engine`, `table`), where the aggregation
//! runs and only small results come back.
//!
//! Each part of the attribution asks its [`Source`] for what it needs:
//!
//! - the randomised design: the moments of the KPIs' units per arm
//!   (`causalkit_warehouse::run_moments`: counts, sums and centred cross-products of the
//!   units' numerators, denominators and covariates), from which come the A/B engine's
//!   per-arm statistics, the joint covariance of the effects
//!   (`causalkit_ab::influence::effect_covariance_from_moments`), the SRM counts and the
//!   covariate balance; and the warehouse statistics query (`run_stats`, read as `causalkit
//!   ab --engine` reads it) for the cross-check without covariates;
//! - the panel designs (rollout, single-unit): one unit × period panel per KPI
//!   (`causalkit_warehouse::run_panel`), joined into the KPI panel the designs fit.
//!
//! - a randomised design's cumulative view: each period's row sums per arm
//!   (`causalkit_warehouse::run_periods`).
//!
//! The parts that read individual rows (the random-subset refuter, the rate/mix
//! decomposition) say "not run" on an engine, with the reason, never a pass.

use crate::error::{AttributionError, Result};
use causalkit_data::Dataset;
use causalkit_warehouse::{Engine, TableName};
use std::cell::{RefCell, RefMut};

/// The warehouse metric of a data-layer KPI (the same name and kind).
pub(crate) fn metric_of(k: &causalkit_data::Kpi) -> causalkit_warehouse::Metric {
    causalkit_warehouse::Metric {
        name: k.name.clone(),
        kind: k.kind.clone(),
    }
}

/// A table in a query engine, with its connection (see the module docs).
pub struct EngineTable {
    engine: RefCell<Box<dyn Engine>>,
    table: TableName,
}

impl std::fmt::Debug for EngineTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EngineTable({})", self.describe())
    }
}

impl EngineTable {
    /// Connects to the engine at `address` (`postgres://USER@HOST:PORT/DB` or
    /// `sc://HOST:PORT`; credentials from the environment or the engine's password file,
    /// never the address — `causalkit_warehouse::connect`) and names the table
    /// (`NAME`, `SCHEMA.NAME` or `CATALOG.SCHEMA.NAME`).
    pub fn connect(address: &str, table: &str) -> Result<EngineTable> {
        let table = TableName::parse(table)?;
        let engine = causalkit_warehouse::connect(address)?;
        Ok(EngineTable::new(engine, table))
    }

    /// A table of an engine already connected.
    pub fn new(engine: Box<dyn Engine>, table: TableName) -> EngineTable {
        EngineTable {
            engine: RefCell::new(engine),
            table,
        }
    }

    /// The table.
    pub fn table(&self) -> &TableName {
        &self.table
    }

    /// `ADDRESS table NAME`, for messages and the output's `source`.
    pub fn describe(&self) -> String {
        format!("{} table {}", self.engine.borrow().address(), self.table)
    }

    /// The engine, borrowed for one statement at a time (a second borrow while one is held
    /// panics: callers run a statement and drop the borrow).
    pub fn engine(&self) -> RefMut<'_, Box<dyn Engine>> {
        self.engine.borrow_mut()
    }
}

/// Where the attribution reads its data (see the module docs).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Rows in memory.
    Rows(&'a Dataset),
    /// A table in a query engine.
    Engine(&'a EngineTable),
}

impl<'a> Source<'a> {
    /// The rows, or an error saying that `what` needs individual rows, which an engine
    /// source does not bring back.
    pub fn rows(&self, what: &str) -> Result<&'a Dataset> {
        match self {
            Source::Rows(d) => Ok(d),
            Source::Engine(e) => Err(AttributionError::Invalid(format!(
                "{what} reads individual rows, which stay in {}; export the rows and give `data.path` for it",
                e.describe()
            ))),
        }
    }

    /// The reason a part that reads rows is not run on an engine source (`None` for rows).
    pub fn rows_only(&self, what: &str) -> Option<String> {
        match self {
            Source::Rows(_) => None,
            Source::Engine(e) => Some(format!(
                "{what} reads individual rows, which stay in {} (the aggregation ran there); give `data.path` to run it on the exported rows",
                e.describe()
            )),
        }
    }

    /// Where the data is, for the output: the dataset's source or the engine's table.
    pub fn describe(&self) -> String {
        match self {
            Source::Rows(d) => d.source().to_string(),
            Source::Engine(e) => e.describe(),
        }
    }
}

impl<'a> From<&'a Dataset> for Source<'a> {
    fn from(d: &'a Dataset) -> Self {
        Source::Rows(d)
    }
}

impl<'a> From<&'a EngineTable> for Source<'a> {
    fn from(e: &'a EngineTable) -> Self {
        Source::Engine(e)
    }
}

/// What a spec's `[data]` section opens: the rows of its file, or its engine table.
#[derive(Debug)]
pub enum Input {
    /// The rows of `data.path`.
    Rows(Dataset),
    /// `data.engine` and `data.table`.
    Engine(EngineTable),
}

impl Input {
    /// The source to read from.
    pub fn source(&self) -> Source<'_> {
        match self {
            Input::Rows(d) => Source::Rows(d),
            Input::Engine(e) => Source::Engine(e),
        }
    }
}
