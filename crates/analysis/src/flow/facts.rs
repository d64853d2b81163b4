//! The facts a flow keeps for its verdict, laid out for the common case:
//! what every live flow holds ([`DirFacts`], [`HelloFacts`]) is inline and
//! small; what few flows need (alert lists, a hello split over records,
//! data after the peer's FIN, decryption) is in [`Rare`], made on first
//! need.

use crate::keyed::KeyedFlow;
use tlsclose_capture::Timestamp;
use tlsclose_tcp::{Dir, SegMeta};
use tlsclose_tls::{Alert, CipherSuite, ContentType, HandshakeAssembler, ProtocolVersion};

/// Records remembered per direction for the ending ladder and idle time.
pub(crate) const RECENT_RECORDS: usize = 4;

/// What an alert record held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlertBody {
    /// Read in plaintext.
    Plain(Alert),
    /// Encrypted (TLS ≤ 1.2 after ChangeCipherSpec, or unreadable).
    Encrypted,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct AlertEntry {
    pub body: AlertBody,
    /// Index of the record among this direction's records.
    pub index: u64,
    pub at: SegMeta,
    /// Frame of the first application_data record of the same direction after it.
    pub data_after: Option<u64>,
}

/// Where a record was, for what is never printed with its time: its frame
/// and the capture clock's time ([`SegMeta`] without the frame's own
/// timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub frame: u64,
    pub clock: Timestamp,
}

impl From<SegMeta> for Stamp {
    fn from(m: SegMeta) -> Stamp {
        Stamp {
            frame: m.frame,
            clock: m.clock,
        }
    }
}

/// A record remembered for the ladder and the idle time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecentRecord {
    pub content_type: ContentType,
    /// The content type read with keys (TLS 1.3: the inner one).
    pub decrypted: Option<ContentType>,
    pub length: u16,
    pub index: u64,
    pub at: SegMeta,
}

/// A frame and its own time: a [`SegMeta`] whose clock time is the same
/// (see [`OffClock`] for the others).
#[derive(Debug, Clone, Copy, Default)]
struct FrameTime {
    frame: u64,
    ts: Timestamp,
}

impl FrameTime {
    fn meta(self, clock: Option<Timestamp>) -> SegMeta {
        SegMeta {
            frame: self.frame,
            ts: self.ts,
            clock: clock.unwrap_or(self.ts),
        }
    }
}

impl From<SegMeta> for FrameTime {
    fn from(m: SegMeta) -> FrameTime {
        FrameTime {
            frame: m.frame,
            ts: m.ts,
        }
    }
}

/// The clock times of a direction's remembered frames whose clock time is
/// not their own ([`SegMeta::off_clock`]: around a step of the capture's
/// timestamps): boxed, as most flows never have one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OffClock {
    recent: [Timestamp; RECENT_RECORDS],
    fin: Timestamp,
    rst: Timestamp,
}

/// The small fields of a remembered record.
#[derive(Debug, Clone, Copy)]
struct Small {
    length: u16,
    content_type: ContentType,
    /// Meaningful when the record's bit of [`Recent::decrypted`] is set.
    decrypted: ContentType,
}

impl Default for Small {
    fn default() -> Self {
        Small {
            length: 0,
            content_type: ContentType(0),
            decrypted: ContentType(0),
        }
    }
}

/// The last [`RECENT_RECORDS`] records of a direction, oldest first, kept
/// inline field by field (no padding per record): one of these lives in
/// every flow direction, idle ones included. The clock times of frames off
/// the clock are in the direction's [`OffClock`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Recent {
    at: [FrameTime; RECENT_RECORDS],
    index: [u64; RECENT_RECORDS],
    small: [Small; RECENT_RECORDS],
    /// Bit per slot: the record's content type was read with keys.
    decrypted: u8,
    /// Bit per slot: the record's frame was off the clock.
    off_clock: u8,
    /// The slot of the next record.
    next: u8,
    /// Records held (at most [`RECENT_RECORDS`]).
    len: u8,
}

impl Recent {
    fn slot(&self, back: usize) -> usize {
        (usize::from(self.next) + RECENT_RECORDS - 1 - back) % RECENT_RECORDS
    }

    fn get(&self, slot: usize, off: Option<&OffClock>) -> Option<RecentRecord> {
        let (at, index, small) = (
            self.at.get(slot)?,
            self.index.get(slot)?,
            self.small.get(slot)?,
        );
        let clock = (self.off_clock & 1 << slot != 0)
            .then(|| off.and_then(|o| o.recent.get(slot).copied()))
            .flatten();
        Some(RecentRecord {
            content_type: small.content_type,
            decrypted: (self.decrypted & 1 << slot != 0).then_some(small.decrypted),
            length: small.length,
            index: *index,
            at: at.meta(clock),
        })
    }

    /// A record, without a decrypted type yet; its slot.
    fn push(&mut self, content_type: ContentType, length: u16, index: u64, at: SegMeta) -> usize {
        let slot = usize::from(self.next);
        if let (Some(a), Some(i), Some(s)) = (
            self.at.get_mut(slot),
            self.index.get_mut(slot),
            self.small.get_mut(slot),
        ) {
            *a = at.into();
            *i = index;
            *s = Small {
                length,
                content_type,
                decrypted: ContentType(0),
            };
        }
        self.decrypted &= !(1 << slot);
        self.off_clock &= !(1 << slot);
        if at.off_clock() {
            self.off_clock |= 1 << slot;
        }
        self.next = ((slot + 1) % RECENT_RECORDS) as u8;
        self.len = (self.len + 1).min(RECENT_RECORDS as u8);
        slot
    }

    fn back(&self, off: Option<&OffClock>) -> Option<RecentRecord> {
        (self.len > 0)
            .then(|| self.get(self.slot(0), off))
            .flatten()
    }

    fn set_decrypted(&mut self, index: u64, inner: ContentType) {
        if self.len == 0 {
            return;
        }
        let slot = self.slot(0);
        if self.index.get(slot) != Some(&index) {
            return;
        }
        if let Some(s) = self.small.get_mut(slot) {
            s.decrypted = inner;
            self.decrypted |= 1 << slot;
        }
    }

    fn iter<'a>(
        &'a self,
        off: Option<&'a OffClock>,
    ) -> impl DoubleEndedIterator<Item = RecentRecord> + 'a {
        (0..usize::from(self.len))
            .rev()
            .filter_map(move |back| self.get(self.slot(back), off))
    }
}

/// An application-data record remembered for the keep-alive race.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LateRecord {
    pub at: Stamp,
    pub index: u64,
    pub length: u16,
    /// Read with keys as HTTP: whether it began a request (None: not read).
    pub request: Option<bool>,
}

/// Facts about one direction that every flow keeps (what few flows need
/// is in [`RareDir`]).
#[derive(Debug)]
pub(crate) struct DirFacts {
    /// Records counted up to this direction's own first FIN/RST.
    pub records: u64,
    pub app_records: u64,
    pub app_bytes: u64,
    /// Index of the first record after this direction's ChangeCipherSpec
    /// ([`NO_RECORD`] until there is one).
    first_after_ccs: u64,
    recent: Recent,
    /// The first application-data record of this direction since the
    /// peer's latest record (a peer record empties it): what a keep-alive
    /// race is made of (a request on a connection the peer had already
    /// closed).
    pub after_peer_record: Option<LateRecord>,
    /// The first FIN and RST (see `teardown`).
    fin: FrameTime,
    rst: FrameTime,
    off_clock: Option<Box<OffClock>>,
    /// [`FIN`], [`RST`], [`FIN_OFF_CLOCK`], [`RST_OFF_CLOCK`].
    teardown: u8,
    pub tls: bool,
    pub ccs: bool,
    pub syn: bool,
    pub sent_client_hello: bool,
    pub sent_server_hello: bool,
    pub sslv2_hello: bool,
    /// This direction's hello was read: stop keeping handshake bodies.
    pub hello_done: bool,
}

/// No record index: a direction has fewer than `u64::MAX` records.
const NO_RECORD: u64 = u64::MAX;
/// Bits of [`DirFacts::teardown`]: a FIN / RST was seen; its frame was
/// off the clock.
const FIN: u8 = 1;
const RST: u8 = 2;
const FIN_OFF_CLOCK: u8 = 4;
const RST_OFF_CLOCK: u8 = 8;

impl Default for DirFacts {
    fn default() -> Self {
        DirFacts {
            records: 0,
            app_records: 0,
            app_bytes: 0,
            first_after_ccs: NO_RECORD,
            recent: Recent::default(),
            after_peer_record: None,
            fin: FrameTime::default(),
            rst: FrameTime::default(),
            off_clock: None,
            teardown: 0,
            tls: false,
            ccs: false,
            syn: false,
            sent_client_hello: false,
            sent_server_hello: false,
            sslv2_hello: false,
            hello_done: false,
        }
    }
}

impl DirFacts {
    /// Index of the first record after this direction's ChangeCipherSpec.
    pub fn first_after_ccs(&self) -> Option<u64> {
        (self.first_after_ccs != NO_RECORD).then_some(self.first_after_ccs)
    }

    pub fn set_first_after_ccs(&mut self, index: u64) {
        self.first_after_ccs = index;
    }

    /// The clock time of a frame off the clock, kept aside.
    fn off_clock_mut(&mut self) -> &mut OffClock {
        self.off_clock.get_or_insert_with(Box::default)
    }

    /// Remembers a record of this direction (without a decrypted type).
    pub fn push_record(&mut self, content_type: ContentType, length: u16, index: u64, at: SegMeta) {
        let slot = self.recent.push(content_type, length, index, at);
        if at.off_clock() {
            if let Some(c) = self.off_clock_mut().recent.get_mut(slot) {
                *c = at.clock;
            }
        }
    }

    /// The content type read with keys of the newest record, when it is
    /// record `index`.
    pub fn set_decrypted(&mut self, index: u64, inner: ContentType) {
        self.recent.set_decrypted(index, inner);
    }

    /// The newest remembered record.
    pub fn last_record(&self) -> Option<RecentRecord> {
        self.recent.back(self.off_clock.as_deref())
    }

    /// The remembered records, oldest first.
    pub fn recent_records(&self) -> impl DoubleEndedIterator<Item = RecentRecord> + '_ {
        self.recent.iter(self.off_clock.as_deref())
    }

    /// The direction's first FIN.
    pub fn fin(&self) -> Option<SegMeta> {
        let clock = (self.teardown & FIN_OFF_CLOCK != 0)
            .then(|| self.off_clock.as_ref().map(|o| o.fin))
            .flatten();
        (self.teardown & FIN != 0).then(|| self.fin.meta(clock))
    }

    /// The direction's first RST.
    pub fn rst(&self) -> Option<SegMeta> {
        let clock = (self.teardown & RST_OFF_CLOCK != 0)
            .then(|| self.off_clock.as_ref().map(|o| o.rst))
            .flatten();
        (self.teardown & RST != 0).then(|| self.rst.meta(clock))
    }

    /// Keeps the first FIN.
    pub fn set_fin(&mut self, m: SegMeta) {
        if self.teardown & FIN == 0 {
            self.fin = m.into();
            self.teardown |= FIN;
            if m.off_clock() {
                self.teardown |= FIN_OFF_CLOCK;
                self.off_clock_mut().fin = m.clock;
            }
        }
    }

    /// Keeps the first RST.
    pub fn set_rst(&mut self, m: SegMeta) {
        if self.teardown & RST == 0 {
            self.rst = m.into();
            self.teardown |= RST;
            if m.off_clock() {
                self.teardown |= RST_OFF_CLOCK;
                self.off_clock_mut().rst = m.clock;
            }
        }
    }

    /// Records after this direction's first FIN/RST do not count (a side
    /// cannot send after its FIN; what comes later is reordering).
    pub fn closed_before(&self, meta: SegMeta) -> bool {
        let first = match self.teardown & (FIN | RST) {
            0 => return false,
            FIN => self.fin.frame,
            RST => self.rst.frame,
            _ => self.fin.frame.min(self.rst.frame),
        };
        first < meta.frame
    }
}

/// What few directions need: alerts, a hello message split over records,
/// data after the peer's FIN, resynchronisations.
#[derive(Debug)]
pub(crate) struct RareDir {
    pub alerts: Vec<AlertEntry>,
    pub alerts_dropped: u64,
    /// Alerts before this index already know application data follows them.
    pub alerts_followed: usize,
    /// A hello message that spans records, while it is joined.
    pub handshake: Option<Box<HandshakeAssembler>>,
    /// The first application-data record of this direction after the
    /// peer's first FIN.
    pub after_peer_fin: Option<LateRecord>,
    pub resyncs: u64,
}

impl RareDir {
    /// What a direction without rare facts has.
    pub const NONE: RareDir = RareDir {
        alerts: Vec::new(),
        alerts_dropped: 0,
        alerts_followed: 0,
        handshake: None,
        after_peer_fin: None,
        resyncs: 0,
    };
}

impl Default for RareDir {
    fn default() -> Self {
        RareDir::NONE
    }
}

/// What few flows need, boxed behind [`FlowFacts`](super::FlowFacts) and
/// made on first need.
#[derive(Debug, Default)]
pub(crate) struct Rare {
    pub dirs: [RareDir; 2],
    /// Decryption of this flow, set up once the key log has something for
    /// it (or at the ServerHello, to say that it has not).
    pub keyed: Option<Box<KeyedFlow>>,
    /// `keep_body_max` raised for this flow (keys were found for it).
    pub keep_body_max: Option<usize>,
    /// The ClientHello's random (read only when keys were given).
    pub client_random: Option<[u8; 32]>,
}

static NO_RARE_DIR: RareDir = RareDir::NONE;

/// A direction's facts, the common and the rare, as the verdict reads them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirView<'a> {
    pub hot: &'a DirFacts,
    pub rare: &'a RareDir,
}

impl<'a> DirView<'a> {
    pub fn new(hot: &'a DirFacts, rare: Option<&'a RareDir>) -> Self {
        DirView {
            hot,
            rare: rare.unwrap_or(&NO_RARE_DIR),
        }
    }
}

impl std::ops::Deref for DirView<'_> {
    type Target = DirFacts;
    fn deref(&self) -> &DirFacts {
        self.hot
    }
}

/// A name from a hello (SNI, ALPN) kept without an allocation when it is
/// at most `N` bytes (the common case); longer ones are boxed. The report's
/// string is made when the flow's line is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Name<const N: usize> {
    Inline {
        len: u8,
        bytes: [u8; N],
    },
    /// A thin pointer (a `String` or `Box<str>` would make every name,
    /// the short ones too, take 24 bytes).
    #[allow(clippy::box_collection)]
    Boxed(Box<String>),
}

impl<const N: usize> Name<N> {
    pub fn new(s: String) -> Self {
        let mut bytes = [0u8; N];
        match (bytes.get_mut(..s.len()), u8::try_from(s.len())) {
            (Some(b), Ok(len)) => {
                b.copy_from_slice(s.as_bytes());
                Name::Inline { len, bytes }
            }
            _ => Name::Boxed(Box::new(s)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Name::Inline { len, bytes } => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Name::Boxed(s) => s,
        }
    }
}

/// Handshake facts of the flow.
#[derive(Debug, Default)]
pub(crate) struct HelloFacts {
    pub sni: Option<Name<30>>,
    /// The ServerHello's (TLS ≤ 1.2; TLS 1.3 has it encrypted).
    pub alpn: Option<Name<14>>,
    pub version: Option<ProtocolVersion>,
    pub cipher: Option<CipherSuite>,
    /// Direction that sent the first ClientHello.
    pub client_hello_dir: Option<Dir>,
    /// A ServerHello (not a HelloRetryRequest) was read while keys were
    /// given.
    pub server_hello_keyed: bool,
}
