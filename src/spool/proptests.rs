//! Property test: random appends, reads, acks, rewinds, reopens and torn tails against a
//! reference model (records with their state, laid out in segments by the documented sizes).
//!
//! After every step the spool's counters match the model's; every record handed out is the
//! model's oldest one not yet handed out (nothing lost, nothing out of order, nothing invented);
//! drops are counted exactly. Reopens are clean closes (the cursor is saved on drop), so what a
//! restart replays is exact: acknowledged records behind the cursor never come back, those past
//! it do. Heavier pass: `PROPTEST_CASES=2000 cargo test --lib spool::proptests`.

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Bytes of a record's payload that hold its sequence number.
const SEQ: usize = 8;

#[derive(Debug, Clone)]
enum Op {
    /// Append a record with this many bytes after its sequence number.
    Append(u8),
    Next,
    /// Ack the n-th (modulo) record handed out and not acked.
    Ack(usize),
    /// Ack the n-th (modulo) id not handed out now: ignored.
    AckStale(usize),
    Rewind,
    Reopen,
    /// Close, cut the newest segment at this fraction (of 65536) of its length, reopen.
    Cut(u16),
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => any::<u8>().prop_map(|n| Op::Append(n % 120)),
        4 => Just(Op::Next),
        3 => any::<usize>().prop_map(Op::Ack),
        1 => any::<usize>().prop_map(Op::AckStale),
        1 => Just(Op::Rewind),
        1 => Just(Op::Reopen),
        1 => any::<u16>().prop_map(Op::Cut),
        1 => Just(Op::Sync),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Unsent,
    InFlight,
    /// Handed out before a rewind: next in line.
    Redo,
    Acked,
}

#[derive(Debug)]
struct Entry {
    len: usize,
    offset: u64,
    state: State,
}

/// A segment: its size and its records, oldest first.
#[derive(Debug, Default)]
struct Seg {
    len: u64,
    seqs: Vec<u64>,
}

/// What the spool should hold.
struct Model {
    max_bytes: u64,
    segment_bytes: u64,
    policy: DropPolicy,
    /// Records on disk, by sequence number.
    entries: BTreeMap<u64, Entry>,
    segs: VecDeque<Seg>,
    /// The newest segment still takes records.
    writer: bool,
    next_seq: u64,
    dropped: u64,
    /// Every id appended, oldest first, with its sequence number.
    ids: Vec<(RecordId, u64)>,
    by_id: HashMap<RecordId, u64>,
}

fn payload(seq: u64, len: usize) -> Vec<u8> {
    let mut p = seq.to_le_bytes().to_vec();
    p.extend((0..len).map(|i| (seq as u8).wrapping_mul(31).wrapping_add(i as u8)));
    p
}

fn size(len: usize) -> u64 {
    record::HEADER_LEN + (SEQ + len) as u64
}

impl Model {
    fn bytes(&self) -> u64 {
        self.segs.iter().map(|s| s.len).sum()
    }

    fn count(&self, states: &[State]) -> u64 {
        self.entries
            .values()
            .filter(|e| states.contains(&e.state))
            .count() as u64
    }

    fn fits_current(&self, size: u64) -> bool {
        self.writer
            && self
                .segs
                .back()
                .is_some_and(|s| s.seqs.is_empty() || s.len + size <= self.segment_bytes)
    }

    /// What `append` must return, as (new sequence number, dropped).
    fn append(&mut self, len: usize) -> (Option<u64>, u64) {
        let size = size(len);
        let need = |m: &Model| size + if m.fits_current(size) { 0 } else { 8 };
        let mut dropped = 0;
        while self.bytes() + need(self) > self.max_bytes {
            if self.policy == DropPolicy::DropNewest {
                self.dropped += 1;
                return (None, 1);
            }
            let seg = self.segs.pop_front().expect("an empty spool has room");
            for seq in seg.seqs {
                if self.entries.remove(&seq).expect("listed").state != State::Acked {
                    dropped += 1;
                }
            }
            self.writer &= !self.segs.is_empty();
        }
        self.dropped += dropped;
        if !self.fits_current(size) {
            self.writer = true;
            self.segs.push_back(Seg {
                len: segment::HEADER_LEN,
                seqs: vec![],
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let seg = self.segs.back_mut().expect("just made");
        self.entries.insert(
            seq,
            Entry {
                len,
                offset: seg.len,
                state: State::Unsent,
            },
        );
        seg.len += size;
        seg.seqs.push(seq);
        (Some(seq), dropped)
    }

    /// The record `next` must hand out.
    fn next(&mut self) -> Option<u64> {
        let first = |state| self.entries.iter().find(|(_, e)| e.state == state);
        let seq = *first(State::Redo).or_else(|| first(State::Unsent))?.0;
        let e = self.entries.get_mut(&seq).expect("found");
        e.state = State::InFlight;
        Some(seq)
    }

    fn ack(&mut self, seq: u64) {
        let e = self.entries.get_mut(&seq).expect("live");
        assert!(matches!(e.state, State::InFlight | State::Redo));
        e.state = State::Acked;
        let index = self
            .segs
            .iter()
            .position(|s| s.seqs.contains(&seq))
            .expect("in a segment");
        if self.segs[index]
            .seqs
            .iter()
            .all(|s| self.entries[s].state == State::Acked)
        {
            let seg = self.segs.remove(index).expect("found");
            for s in seg.seqs {
                self.entries.remove(&s);
            }
            self.writer &= index < self.segs.len();
        }
    }

    /// The oldest record not acked: where the cursor saved on close points.
    fn frontier(&self) -> u64 {
        self.entries
            .iter()
            .find(|(_, e)| e.state != State::Acked)
            .map_or(self.next_seq, |(&s, _)| s)
    }

    /// Records lost from the newest segment cut to `cut` bytes.
    fn cut_newest(&mut self, cut: u64) {
        let Some(seg) = self.segs.back_mut() else {
            return;
        };
        let entries = &mut self.entries;
        seg.seqs.retain(|s| {
            let keep =
                cut >= segment::HEADER_LEN && entries[s].offset + size(entries[s].len) <= cut;
            if !keep {
                entries.remove(s);
            }
            keep
        });
        seg.len = cut.max(segment::HEADER_LEN);
        if let Some(&last) = seg.seqs.last() {
            seg.len = self.entries[&last].offset + size(self.entries[&last].len);
        }
    }

    /// A restart with the cursor at `frontier`: everything from there on comes again.
    fn reopen(&mut self, frontier: u64) {
        for (&seq, e) in self.entries.iter_mut() {
            if seq >= frontier {
                e.state = State::Unsent;
            }
        }
        let entries = &mut self.entries;
        self.segs.retain(|seg| {
            let spent = seg.seqs.iter().all(|s| entries[s].state == State::Acked);
            if spent {
                for s in &seg.seqs {
                    entries.remove(s);
                }
            }
            !spent
        });
        self.writer = false;
        self.dropped = 0;
    }
}

fn seg_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

fn check(spool: &Spool, model: &Model, dir: &Path, step: usize) {
    use State::*;
    assert_eq!(
        spool.pending(),
        model.count(&[Unsent, InFlight, Redo]),
        "step {step}: pending"
    );
    assert_eq!(
        spool.unsent(),
        model.count(&[Unsent, Redo]),
        "step {step}: unsent"
    );
    assert_eq!(spool.bytes(), model.bytes(), "step {step}: bytes");
    assert_eq!(spool.dropped(), model.dropped, "step {step}: dropped");
    assert_eq!(
        seg_files(dir).len(),
        model.segs.len(),
        "step {step}: segment files"
    );
}

fn run(max_bytes: u64, segment_bytes: u64, policy: DropPolicy, ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let opts = SpoolOptions {
        segment_bytes,
        policy,
        fsync: FsyncPolicy::Never,
        ..SpoolOptions::new(dir.path(), max_bytes)
    };
    let mut model = Model {
        max_bytes,
        segment_bytes,
        policy,
        entries: BTreeMap::new(),
        segs: VecDeque::new(),
        writer: false,
        next_seq: 0,
        dropped: 0,
        ids: Vec::new(),
        by_id: HashMap::new(),
    };
    let mut spool = Spool::open(opts.clone()).unwrap().0;
    let mut buf = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Append(len) => {
                let len = usize::from(len);
                let got = spool.append(&payload(model.next_seq, len)).unwrap();
                let (seq, dropped) = model.append(len);
                assert_eq!(got.dropped, dropped, "step {step}: dropped by append");
                assert_eq!(got.id.is_some(), seq.is_some(), "step {step}");
                if let (Some(id), Some(seq)) = (got.id, seq) {
                    if let Some((last, _)) = model.ids.last() {
                        assert!(id > *last, "step {step}: ids grow");
                    }
                    model.ids.push((id, seq));
                    model.by_id.insert(id, seq);
                }
            }
            Op::Next => {
                let got = spool.next(&mut buf).unwrap();
                let want = model.next();
                let got_seq = got.map(|id| model.by_id[&id]);
                assert_eq!(got_seq, want, "step {step}: next");
                if let Some(seq) = want {
                    assert_eq!(buf, payload(seq, model.entries[&seq].len), "step {step}");
                }
            }
            Op::Ack(n) => {
                let out: Vec<_> = model
                    .ids
                    .iter()
                    .filter(|(_, s)| {
                        model
                            .entries
                            .get(s)
                            .is_some_and(|e| matches!(e.state, State::InFlight | State::Redo))
                    })
                    .copied()
                    .collect();
                if !out.is_empty() {
                    let (id, seq) = out[n % out.len()];
                    spool.ack(id);
                    model.ack(seq);
                }
            }
            Op::AckStale(n) => {
                let stale: Vec<_> = model
                    .ids
                    .iter()
                    .filter(|(_, s)| {
                        !model
                            .entries
                            .get(s)
                            .is_some_and(|e| matches!(e.state, State::InFlight | State::Redo))
                    })
                    .copied()
                    .collect();
                if !stale.is_empty() {
                    spool.ack(stale[n % stale.len()].0);
                }
            }
            Op::Rewind => {
                spool.rewind();
                for e in model.entries.values_mut() {
                    if e.state == State::InFlight {
                        e.state = State::Redo;
                    }
                }
            }
            Op::Reopen => {
                drop(spool);
                model.reopen(model.frontier());
                spool = Spool::open(opts.clone()).unwrap().0;
            }
            Op::Cut(fraction) => {
                drop(spool);
                let frontier = model.frontier();
                if let Some(newest) = seg_files(dir.path()).last() {
                    let len = std::fs::metadata(newest).unwrap().len();
                    let cut = len * u64::from(fraction) / 65536;
                    let file = std::fs::OpenOptions::new()
                        .write(true)
                        .open(newest)
                        .unwrap();
                    file.set_len(cut).unwrap();
                    model.cut_newest(cut);
                }
                model.reopen(frontier);
                spool = Spool::open(opts.clone()).unwrap().0;
            }
            Op::Sync => spool.sync().unwrap(),
        }
        check(&spool, &model, dir.path(), step);
    }
}

proptest! {
    #[test]
    fn the_spool_behaves_like_the_reference_model(
        max_bytes in 200u64..2000,
        segment_bytes in 64u64..400,
        newest in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let policy = if newest { DropPolicy::DropNewest } else { DropPolicy::DropOldest };
        run(max_bytes, segment_bytes, policy, ops);
    }
}
