//! Between the analysis and the outputs: numbering, filters, `--flow`,
//! `--fail-on`, what `--extract` will copy, and the fan-out of every
//! selected flow to each sink (the chosen format, the `--report` file).

use crate::cli::config::{Config, Output};
use crate::cli::Format;
use crate::output::audit::AuditSink;
use crate::output::extract::ExtractFlow;
use crate::output::flow_detail::DetailSink;
use crate::output::group_by::GroupSink;
use crate::output::sink::{
    CsvSink, Flow, InputInfo, JsonSink, MarkdownSink, Pick, ReportSink, RunEnd, TableSink,
};
use crate::report::markdown::TicketSink;
use crate::run::summary::Summary;
use std::io::{self, Write};
use tlsclose_analysis::{Ending, FlowReport};
use tlsclose_audit::select::{endpoints, FlowSel, Selection};

pub struct Pipeline {
    selection: Selection,
    filters: Vec<String>,
    /// `--flow N`.
    pub pick: Option<Pick>,
    /// Per input: frames of the run before its capture's first frame (a
    /// flow's id is this plus its first frame).
    bases: Vec<u64>,
    sinks: Vec<Box<dyn ReportSink>>,
    fail_on: Vec<Ending>,
    /// Selected flows with a `--fail-on` ending.
    pub failing: u64,
    /// Of those, how many per ending (in `fail_on`'s order).
    failing_endings: Vec<u64>,
    /// Why the sinks fail the run (`--fail-on-finding`), in words.
    sink_failures: Vec<String>,
    /// Flows that passed the filters.
    pub selected: u64,
    /// `--flow` was given and matched nothing.
    pub flow_not_found: bool,
    /// Flows for `--extract` (when asked for).
    pub extract: Option<Vec<ExtractFlow>>,
    pub inputs: Vec<InputInfo>,
    quiet: bool,
}

impl Pipeline {
    /// The sinks the options ask for; `out` is standard output.
    pub fn new(c: &Config, out: Box<dyn Write>) -> io::Result<Pipeline> {
        let width = c.width;
        let main: Box<dyn ReportSink> = match &c.output {
            Output::Audit(format, fail_on) => Box::new(AuditSink::new(
                out,
                *format,
                fail_on.clone(),
                width,
                c.examples,
            )),
            Output::Detail(sel, format) => {
                let asked = match sel {
                    FlowSel::Number(n) => n.to_string(),
                    FlowSel::Tuple(a, b) => format!("{a}-{b}"),
                };
                Box::new(DetailSink::new(out, *format, asked, c.iso))
            }
            Output::Groups(by, format) => Box::new(GroupSink::new(out, *format, *by, width)),
            Output::Flows(Format::Json) => Box::new(JsonSink::new(out, c.iso)),
            Output::Flows(Format::Csv) => Box::new(CsvSink::new(out)),
            Output::Flows(Format::Table) => Box::new(TableSink::new(out, c.show_file, width)),
            Output::Flows(Format::Markdown) => Box::new(MarkdownSink::new(out, c.show_file)),
        };
        let mut sinks = vec![main];
        if let Some(report) = &c.report {
            if report.html {
                sinks.push(Box::new(crate::report::html::HtmlSink::create(
                    &report.path,
                    report.flows,
                    c.examples,
                )?));
            } else {
                sinks.push(Box::new(TicketSink::create(
                    &report.path,
                    report.flows,
                    c.examples,
                )?));
            }
        }
        let pick = c.pick().map(|id| Pick {
            id,
            found: false,
            below: None,
            above: None,
        });
        let selection = c.selection.clone();
        let mut filters = selection.describe();
        if let Some(n) = c.pick() {
            filters.push(format!("--flow {n}"));
        }
        Ok(Pipeline {
            selection,
            filters,
            pick,
            bases: Vec::new(),
            sinks,
            failing_endings: vec![0; c.fail_on.len()],
            sink_failures: Vec::new(),
            fail_on: c.fail_on.clone(),
            failing: 0,
            selected: 0,
            flow_not_found: false,
            extract: c.extract.as_ref().map(|_| Vec::new()),
            inputs: Vec::new(),
            quiet: c.quiet,
        })
    }

    /// Input `input`'s capture starts after `frames` frames of the run.
    pub fn set_base(&mut self, input: usize, frames: u64) {
        if self.bases.len() <= input {
            self.bases.resize(input + 1, 0);
        }
        if let Some(b) = self.bases.get_mut(input) {
            *b = frames;
        }
    }

    /// A flow has ended (in input `input`).
    pub fn flow(&mut self, input: usize, report: FlowReport) -> io::Result<()> {
        if let Some(i) = self.inputs.get_mut(input) {
            i.tls_flows += 1;
        }
        let base = self.bases.get(input).copied().unwrap_or(0);
        let id = base.saturating_add(report.first_frame);
        if let Some(pick) = &mut self.pick {
            if id != pick.id {
                pick.see(id);
                return Ok(());
            }
            pick.found = true;
        }
        self.offer(Flow { input, id, report })
    }

    fn offer(&mut self, flow: Flow) -> io::Result<()> {
        if !self.selection.matches(&flow.report) {
            return Ok(());
        }
        self.selected += 1;
        if let Some(i) = self.fail_on.iter().position(|&e| e == flow.report.ending) {
            self.failing += 1;
            if let Some(n) = self.failing_endings.get_mut(i) {
                *n += 1;
            }
        }
        if let Some(list) = &mut self.extract {
            let (client, server) = endpoints(&flow.report);
            list.push(ExtractFlow {
                input: flow.input,
                client,
                server,
                first_frame: flow.report.first_frame,
                last_frame: flow.report.last_frame,
            });
        }
        for s in &mut self.sinks {
            s.flow(&flow)?;
        }
        Ok(())
    }

    /// Every input is read: the sinks write their ends.
    pub fn finish(&mut self, summary: &mut Summary) -> io::Result<()> {
        let filtering = self.selection.is_active() || !self.filters.is_empty();
        if filtering {
            summary.filtered_out = Some(summary.tls_flows.saturating_sub(self.selected));
        }
        self.flow_not_found = filtering && self.selected == 0 && self.filters_name_a_flow();
        let end = RunEnd {
            summary,
            pick: self.pick,
            inputs: &self.inputs,
            filters: &self.filters,
            quiet: self.quiet,
        };
        for s in &mut self.sinks {
            s.finish(&end)?;
            self.failing += s.failing();
            self.sink_failures.extend(s.failing_why());
        }
        Ok(())
    }

    /// Why the run fails with status 1, one line per reason (empty when
    /// it does not): the `--fail-on` endings that matched and how many
    /// flows, the `--fail-on-finding` findings. (`--flow` matching nothing
    /// is said by its sink.)
    pub fn failure_reasons(&self) -> Vec<String> {
        let mut v = Vec::new();
        let matched: Vec<String> = self
            .fail_on
            .iter()
            .zip(&self.failing_endings)
            .filter(|(_, &n)| n > 0)
            .map(|(e, &n)| format!("{n} {}", e.as_str()))
            .collect();
        if !matched.is_empty() {
            let asked: Vec<&str> = self.fail_on.iter().map(|e| e.as_str()).collect();
            let n: u64 = self.failing_endings.iter().sum();
            v.push(format!(
                "--fail-on {} matched {n} of {} selected flow{}: {}",
                asked.join(","),
                self.selected,
                tlsclose_audit::units::plural(self.selected),
                matched.join(", ")
            ));
        }
        v.extend(self.sink_failures.iter().cloned());
        v
    }

    fn filters_name_a_flow(&self) -> bool {
        self.selection.tuple.is_some() || self.filters.iter().any(|f| f.starts_with("--flow"))
    }
}
