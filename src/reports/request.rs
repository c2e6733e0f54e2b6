//! A report asked for, as one value: its `Debug` text is its cache key (so two requests
//! share a body exactly when they ask for the same thing), and it renders through its
//! module. The HTTP layer answers a cached body at once and sends only the rest to the
//! work budget ([`crate::budget`]).

use std::sync::Arc;

use super::gaps::GapSort;
use super::what_if::WhatIf;
use super::{deciles, gaps, local_authorities, what_if, Rendered, Scope, SnapshotReports};
use crate::error::ApiError;
use crate::wire::Format;

#[derive(Debug)]
pub enum Report {
    Gaps {
        scope: Scope,
        sort: GapSort,
        limit: Option<usize>,
        format: Format,
    },
    GapsMap(Scope),
    Deciles {
        scope: Scope,
        format: Format,
    },
    DecilesChart(Scope),
    LocalAuthorities {
        scope: Scope,
        format: Format,
    },
    WhatIf {
        what_if: WhatIf,
        format: Format,
    },
}

impl Report {
    pub fn key(&self) -> String {
        format!("{self:?}")
    }

    /// The cached body, if there is one (cheap: no need to queue for the work budget).
    pub fn cached(&self, reports: &SnapshotReports) -> Option<Arc<Rendered>> {
        reports.lookup(&self.key())
    }

    /// The categories whose published assets the report is computed from.
    fn categories(&self) -> &[String] {
        match self {
            Report::Gaps { scope, .. }
            | Report::GapsMap(scope)
            | Report::Deciles { scope, .. }
            | Report::DecilesChart(scope)
            | Report::LocalAuthorities { scope, .. } => &scope.categories,
            Report::WhatIf { what_if, .. } => &what_if.scope.categories,
        }
    }

    /// The cached body, or renders and caches it (costly: run it on the work budget).
    pub fn render(&self, reports: &SnapshotReports) -> Result<Arc<Rendered>, ApiError> {
        reports.cached(&self.key(), self.categories(), || match self {
            Report::Gaps {
                scope,
                sort,
                limit,
                format,
            } => gaps::render(reports, scope, *sort, *limit, *format),
            Report::GapsMap(scope) => gaps::map_svg(reports, scope),
            Report::Deciles { scope, format } => deciles::render(reports, scope, *format),
            Report::DecilesChart(scope) => deciles::chart_svg(reports, scope),
            Report::LocalAuthorities { scope, format } => {
                local_authorities::render(reports, scope, *format)
            }
            Report::WhatIf { what_if, format } => what_if::render(reports, what_if, *format),
        })
    }
}
