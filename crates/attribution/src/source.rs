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

use crate::error::Result;
use causalkit_data::Dataset;
use causalkit_warehouse::{Engine, TableName};
use std::any::Any;
use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::rc::Rc;

/// The warehouse metric of a data-layer KPI (the same name and kind).
pub(crate) fn metric_of(k: &causalkit_data::Kpi) -> causalkit_warehouse::Metric {
    causalkit_warehouse::Metric {
        name: k.name.clone(),
        kind: k.kind.clone(),
    }
}

/// A table in a query engine, with its connection (see the module docs).
///
/// An attribution asks for the same aggregation more than once (the fit, then the refuters
/// and the cumulative view refit or re-read it): [`EngineTable::once`] answers a request
/// the table has already answered from memory, so each distinct statement scans the table
/// once per `EngineTable` (the table is read as it was at that first scan).
pub struct EngineTable {
    engine: RefCell<Box<dyn Engine>>,
    table: TableName,
    answers: RefCell<HashMap<String, Rc<dyn Any>>>,
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
            answers: RefCell::new(HashMap::new()),
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

    /// `run(engine, request)` (e.g. `causalkit_warehouse::run_moments`), or its answer to an
    /// equal request (same type, same `Debug` form) made earlier through this table.
    pub fn once<R: std::fmt::Debug, T: Clone + 'static>(
        &self,
        request: &R,
        run: fn(&mut dyn Engine, &R) -> causalkit_warehouse::Result<T>,
    ) -> Result<T> {
        let key = format!("{}: {request:?}", std::any::type_name::<R>());
        if let Some(t) = self
            .answers
            .borrow()
            .get(&key)
            .and_then(|a| a.downcast_ref::<T>())
        {
            return Ok(t.clone());
        }
        let t = run(self.engine().as_mut(), request)?;
        self.answers.borrow_mut().insert(key, Rc::new(t.clone()));
        Ok(t)
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
    /// The rows, or — on an engine, which does not bring individual rows back — why `what`
    /// (a part that reads them) is not run.
    pub fn rows(&self, what: &str) -> std::result::Result<&'a Dataset, String> {
        match self {
            Source::Rows(d) => Ok(d),
            Source::Engine(e) => Err(format!(
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
