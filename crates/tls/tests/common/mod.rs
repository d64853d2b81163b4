//! Helpers shared by the deframer tests: owned events, a driver, record
//! stream builders (records and the PRNG from tlsclose-testkit).
#![allow(dead_code, unused_imports)]

pub use tlsclose_testkit::{tls::record, Prng};
use tlsclose_tls::{DeframeEvent, Deframer, DeframerConfig, StartMode};

/// An owned copy of a [`DeframeEvent`] (tags are push indices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Start(u64),
    Rec(Rec),
    Sslv2 {
        offset: u64,
        version: u16,
        tag: usize,
    },
    Lost(u64),
    Resync {
        offset: u64,
        skipped: u64,
    },
    GaveUp(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub ty: u8,
    pub version: u16,
    pub len: u16,
    pub offset: u64,
    pub body: Option<Vec<u8>>,
    pub damaged: bool,
    pub tag: usize,
}

impl Rec {
    pub fn end(&self) -> u64 {
        self.offset + 5 + u64::from(self.len)
    }
    /// Everything but the tag.
    pub fn untagged(&self) -> Rec {
        Rec {
            tag: 0,
            ..self.clone()
        }
    }
}

pub fn own(e: DeframeEvent<'_, usize>) -> Ev {
    match e {
        DeframeEvent::TlsStart { offset } => Ev::Start(offset),
        DeframeEvent::Record(r) => Ev::Rec(Rec {
            ty: r.header.content_type.0,
            version: r.header.version.0,
            len: r.header.length,
            offset: r.offset,
            body: r.body.map(|b| b.to_vec()),
            damaged: r.damaged,
            tag: r.tag,
        }),
        DeframeEvent::Sslv2ClientHello {
            offset,
            version,
            tag,
        } => Ev::Sslv2 {
            offset,
            version: version.0,
            tag,
        },
        DeframeEvent::LostSync { offset } => Ev::Lost(offset),
        DeframeEvent::Resync { offset, skipped } => Ev::Resync { offset, skipped },
        DeframeEvent::GaveUp { offset } => Ev::GaveUp(offset),
    }
}

#[derive(Debug, Clone)]
pub enum Op {
    Push(Vec<u8>),
    Gap(u64),
    Finish,
}

/// Runs the ops (push i carries tag i; gaps and finish count as ops too)
/// and checks the memory bound after each.
pub fn run(mode: StartMode, config: DeframerConfig, ops: &[Op]) -> Vec<Ev> {
    let mut d = Deframer::new(mode, config);
    let mut out = Vec::new();
    let bound = config.keep_body_max.max(config.keep_handshake_max) + 9;
    for (tag, op) in ops.iter().enumerate() {
        let mut sink = |e: DeframeEvent<'_, usize>| out.push(own(e));
        match op {
            Op::Push(b) => d.push(b, tag, &mut sink),
            Op::Gap(n) => d.gap(*n, tag, &mut sink),
            Op::Finish => d.finish(&mut sink),
        }
        assert!(d.buffered() <= bound, "buffered {} > {bound}", d.buffered());
    }
    out
}

/// Pushes `stream` cut at `cuts` (sorted offsets), then finishes.
pub fn run_cuts(mode: StartMode, config: DeframerConfig, stream: &[u8], cuts: &[usize]) -> Vec<Ev> {
    let mut ops = Vec::new();
    let mut prev = 0;
    for &c in cuts.iter().chain(std::iter::once(&stream.len())) {
        let c = c.clamp(prev, stream.len());
        ops.push(Op::Push(stream[prev..c].to_vec()));
        prev = c;
    }
    ops.push(Op::Finish);
    run(mode, config, &ops)
}

pub fn records(evs: &[Ev]) -> Vec<Rec> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Rec(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub fn untagged(evs: &[Ev]) -> Vec<Rec> {
    records(evs).iter().map(Rec::untagged).collect()
}

/// One record on the wire.
#[derive(Debug, Clone)]
pub struct Spec {
    pub ty: u8,
    pub version: u16,
    pub body: Vec<u8>,
}

/// Serialises records; returns the stream and the records the deframer
/// should report (with `base` added to offsets), bodies kept per `config`.
pub fn build(specs: &[Spec], base: u64, config: &DeframerConfig) -> (Vec<u8>, Vec<Rec>) {
    let mut stream = Vec::new();
    let mut expect = Vec::new();
    for s in specs {
        let offset = base + stream.len() as u64;
        stream.extend(record(s.ty, s.version, &s.body));
        let keep = s.body.len() <= config.keep_body_max
            || (s.ty == 22 && s.body.len() <= config.keep_handshake_max);
        expect.push(Rec {
            ty: s.ty,
            version: s.version,
            len: s.body.len() as u16,
            offset,
            body: keep.then(|| s.body.clone()),
            damaged: false,
            tag: 0,
        });
    }
    (stream, expect)
}

/// The index of the push (in `run_cuts` numbering) that holds byte `at`.
pub fn push_index(cuts: &[usize], at: u64) -> usize {
    cuts.iter().filter(|&&c| (c as u64) <= at).count()
}
