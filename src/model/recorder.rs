//! The recorder: what a run writes down as it goes, besides the state it
//! acts on.
//!
//! Owns [`Recorder`]: the trace (handed to the caller's sink), the totals,
//! the timelines (per deployment, per primary site, per update, per
//! server), the state-message latencies and the per-cohort timings. The
//! other parts report to it; it never changes what happens next.

use super::record::{
    CohortTimingLog, ContentBytes, HistogramLog, LoadRow, SampleRow, Timing, Totals, UpdateRow,
};
use super::trace::{TraceEvent, TraceRecord, Tracer};
use crate::engine::{SimDuration, SimTime};
use crate::estate::ClientId;

/// What a run has recorded so far.
pub(crate) struct Recorder<'e> {
    tracer: Option<Tracer<'e>>,
    /// Counts of what happened.
    pub(crate) totals: Totals,
    pub(crate) timeline: Vec<SampleRow>,
    /// In a hierarchy: the timeline per primary site.
    pub(crate) site_timeline: Vec<SampleRow>,
    pub(crate) update_timeline: Vec<UpdateRow>,
    pub(crate) load: Vec<LoadRow>,
    /// Every state message's latency (one histogram).
    message_latency: HistogramLog,
    min_batch_gap: Option<SimDuration>,
    /// Clients with a conflicting GPO, per cohort.
    pub(crate) gpo_conflicts: Vec<u32>,
    /// Co-managed clients (Windows Update workload on Intune), per cohort.
    pub(crate) co_managed: Vec<u32>,
    cohort_timings: CohortTimingLog,
    /// Content bytes by source, per cohort.
    pub(crate) cohort_bytes: Vec<ContentBytes>,
}

impl<'e> Recorder<'e> {
    /// A recorder for `cohorts` cohorts, with its GPO conflicts counted.
    pub(crate) fn new(cohorts: usize, gpo_conflicts: Vec<u32>, co_managed: Vec<u32>) -> Self {
        Recorder {
            tracer: None,
            totals: Totals::default(),
            timeline: Vec::new(),
            site_timeline: Vec::new(),
            update_timeline: Vec::new(),
            load: Vec::new(),
            message_latency: HistogramLog::new(1),
            min_batch_gap: None,
            gpo_conflicts,
            co_managed,
            cohort_timings: CohortTimingLog::new(cohorts),
            cohort_bytes: vec![ContentBytes::default(); cohorts],
        }
    }

    /// Makes room for every row of a run's timelines at once: `samples`
    /// samples of `deployments` rows (and `site_rows` in a hierarchy),
    /// `updates` and `servers` rows each. A timeline grown by doubling
    /// would hold up to twice its size in address space, which a limit on
    /// it (`ulimit -v`) counts; where that much cannot be had at once, the
    /// timelines grow as they go.
    pub(crate) fn reserve_timelines(
        &mut self,
        samples: usize,
        deployments: usize,
        site_rows: usize,
        updates: usize,
        servers: usize,
    ) {
        let _ = (self.timeline).try_reserve_exact(samples.saturating_mul(deployments));
        let _ = (self.site_timeline).try_reserve_exact(samples.saturating_mul(site_rows));
        let _ = (self.update_timeline).try_reserve_exact(samples.saturating_mul(updates));
        let _ = (self.load).try_reserve_exact(samples.saturating_mul(servers));
    }

    /// Sends trace records to `tracer` from now on.
    pub(crate) fn set_tracer(&mut self, tracer: Tracer<'e>) {
        self.tracer = Some(tracer);
    }

    /// Whether anything is traced.
    #[inline]
    pub(crate) fn tracing(&self) -> bool {
        self.tracer.is_some()
    }

    /// Emits a trace record of the event `f` builds, if tracing wants
    /// records about `client` (`None`: the site).
    #[inline]
    pub(crate) fn trace(
        &mut self,
        now: SimTime,
        client: Option<ClientId>,
        f: impl FnOnce() -> TraceEvent,
    ) {
        if let Some(tracer) = &mut self.tracer
            && tracer.wants(client)
        {
            tracer.emit(TraceRecord::new(now, client, f()));
        }
    }

    /// A state message reached its site's database after `latency`.
    #[inline]
    pub(crate) fn message_in_database(&mut self, latency: SimDuration) {
        self.message_latency.saturating_record(0, latency.as_ms());
        self.totals.state_messages_in_database += 1;
    }

    /// A client sent a batch `gap` after its previous one.
    pub(crate) fn batch_gap(&mut self, gap: SimDuration) {
        self.min_batch_gap = Some(self.min_batch_gap.map_or(gap, |g| g.min(gap)));
    }

    /// One of cohort `cohort`'s client timings.
    #[inline]
    pub(crate) fn timing(&mut self, cohort: usize, timing: Timing, ms: u64) {
        self.cohort_timings.record(cohort, timing, ms);
    }

    /// The run is over: the tracer goes (its sink has seen every record),
    /// and the rest is handed over.
    pub(crate) fn into_parts(self) -> RecordedParts {
        RecordedParts {
            totals: self.totals,
            timeline: self.timeline,
            site_timeline: self.site_timeline,
            update_timeline: self.update_timeline,
            load: self.load,
            message_latency: (self.message_latency.into_histograms())
                .pop()
                .expect("one histogram"),
            min_batch_gap: self.min_batch_gap,
            gpo_conflicts: self.gpo_conflicts,
            co_managed: self.co_managed,
            cohort_timings: self.cohort_timings.into_timings(),
            cohort_bytes: self.cohort_bytes,
        }
    }
}

/// What the recorder hands over at the end of a run.
pub(crate) struct RecordedParts {
    pub(crate) totals: Totals,
    pub(crate) timeline: Vec<SampleRow>,
    pub(crate) site_timeline: Vec<SampleRow>,
    pub(crate) update_timeline: Vec<UpdateRow>,
    pub(crate) load: Vec<LoadRow>,
    pub(crate) message_latency: super::record::MsHistogram,
    pub(crate) min_batch_gap: Option<SimDuration>,
    pub(crate) gpo_conflicts: Vec<u32>,
    pub(crate) co_managed: Vec<u32>,
    pub(crate) cohort_timings: Vec<super::record::CohortTimings>,
    pub(crate) cohort_bytes: Vec<ContentBytes>,
}
