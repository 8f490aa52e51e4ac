use super::*;
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Records of `payload(i)` take 22 bytes: 11 fit in a 256-byte segment after its header.
fn opts(dir: &Path) -> SpoolOptions {
    SpoolOptions {
        segment_bytes: 256,
        fsync: FsyncPolicy::Never,
        ..SpoolOptions::new(dir, 4096)
    }
}

const PER_SEGMENT: u32 = 11;
const RECORD: u64 = record::HEADER_LEN + 10;

fn payload(i: u32) -> Vec<u8> {
    format!("batch-{i:04}").into_bytes()
}

fn open(o: &SpoolOptions) -> (Spool, Recovery) {
    Spool::open(o.clone()).unwrap()
}

fn append_all(spool: &mut Spool, range: std::ops::Range<u32>) -> Vec<RecordId> {
    range
        .map(|i| spool.append(&payload(i)).unwrap().id.unwrap())
        .collect()
}

/// Every record `next` hands out until there is none (bounded).
fn drain(spool: &mut Spool) -> Vec<(RecordId, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for _ in 0..10_000 {
        match spool.next(&mut buf).unwrap() {
            Some(id) => out.push((id, buf.clone())),
            None => return out,
        }
    }
    panic!("next() never ran dry");
}

fn payloads(got: &[(RecordId, Vec<u8>)]) -> Vec<Vec<u8>> {
    got.iter().map(|(_, p)| p.clone()).collect()
}

fn expected(range: impl IntoIterator<Item = u32>) -> Vec<Vec<u8>> {
    range.into_iter().map(payload).collect()
}

fn seg_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

#[test]
fn records_come_back_in_order_with_growing_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, recovery) = open(&opts(dir.path()));
    assert_eq!(recovery, Recovery::default());
    let ids = append_all(&mut spool, 0..30);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(seg_files(dir.path()).len(), 3);
    assert_eq!((spool.pending(), spool.unsent()), (30, 30));
    assert_eq!(spool.bytes(), 3 * segment::HEADER_LEN + 30 * RECORD);
    let got = drain(&mut spool);
    assert_eq!(payloads(&got), expected(0..30));
    assert_eq!(got.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids);
    assert_eq!((spool.pending(), spool.unsent()), (30, 0));
}

#[test]
fn a_torn_last_record_is_cut_at_every_byte_and_the_earlier_ones_survive() {
    for cut in 0..RECORD {
        let dir = tempfile::tempdir().unwrap();
        let o = opts(dir.path());
        let (mut spool, _) = open(&o);
        append_all(&mut spool, 0..3);
        drop(spool);
        let file = &seg_files(dir.path())[0];
        let last = segment::HEADER_LEN + 2 * RECORD;
        fs::OpenOptions::new()
            .write(true)
            .open(file)
            .unwrap()
            .set_len(last + cut)
            .unwrap();
        let (mut spool, recovery) = open(&o);
        let torn: Vec<_> = if cut == 0 {
            vec![]
        } else {
            vec![(file.clone(), last, cut)]
        };
        let found: Vec<_> = recovery
            .torn
            .iter()
            .map(|t| (t.file.clone(), t.offset, t.cut_bytes))
            .collect();
        assert_eq!(found, torn, "cut {cut}");
        assert_eq!((recovery.records, recovery.bytes), (2, last), "cut {cut}");
        assert_eq!(fs::metadata(file).unwrap().len(), last, "cut {cut}");
        assert_eq!(payloads(&drain(&mut spool)), expected(0..2), "cut {cut}");
    }
}

/// Writes `bytes` over segment `file` at `offset`.
fn scribble(file: &Path, offset: u64, bytes: &[u8]) {
    let f = fs::OpenOptions::new().write(true).open(file).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

#[test]
fn a_flipped_bit_mid_segment_costs_only_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let (mut spool, _) = open(&o);
    append_all(&mut spool, 0..20);
    drop(spool);
    let first = &seg_files(dir.path())[0];
    let fourth = segment::HEADER_LEN + 3 * RECORD;
    scribble(first, fourth + record::HEADER_LEN + 2, b"X");
    let (mut spool, recovery) = open(&o);
    assert!(recovery.torn.is_empty(), "{recovery:?}");
    assert_eq!(recovery.skipped.len(), 1);
    let skipped = &recovery.skipped[0];
    assert_eq!((&skipped.file, skipped.offset), (first, fourth));
    assert_eq!(skipped.cut_bytes, RECORD);
    assert!(skipped.reason.contains("CRC"), "{}", skipped.reason);
    assert_eq!(recovery.records, 19);
    assert_eq!(payloads(&drain(&mut spool)), expected((0..3).chain(4..20)));
}

#[test]
fn two_bad_length_fields_cost_two_records_and_a_damaged_last_record_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let (mut spool, _) = open(&o);
    append_all(&mut spool, 0..PER_SEGMENT);
    drop(spool);
    let first = &seg_files(dir.path())[0];
    let at = |i: u64| segment::HEADER_LEN + i * RECORD;
    // Length fields sit after the 4-byte marker; the second one claims far more than the file.
    scribble(first, at(2) + 4, &[0x40]);
    scribble(first, at(5) + 6, &[0x7F]);
    // The last record's payload: nothing intact follows it, so it is a torn tail.
    scribble(
        first,
        at(u64::from(PER_SEGMENT) - 1) + record::HEADER_LEN,
        b"#",
    );
    let (mut spool, recovery) = open(&o);
    assert_eq!(recovery.skipped.len(), 2, "{recovery:?}");
    assert_eq!(recovery.torn.len(), 1, "{recovery:?}");
    assert_eq!(recovery.torn[0].offset, at(u64::from(PER_SEGMENT) - 1));
    let kept = (0..PER_SEGMENT - 1).filter(|&i| i != 2 && i != 5);
    assert_eq!(payloads(&drain(&mut spool)), expected(kept));
}

#[test]
fn format_1_segments_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"ETSPOOL\x01".to_vec();
    for i in 0..3 {
        let mut rec = Vec::new();
        record::encode(&payload(i), &mut rec);
        bytes.extend_from_slice(&rec[4..]); // format 1: no marker
    }
    fs::write(dir.path().join(segment::file_name(0)), &bytes).unwrap();
    let (mut spool, recovery) = open(&opts(dir.path()));
    assert_eq!(recovery.records, 3);
    append_all(&mut spool, 3..5);
    assert_eq!(payloads(&drain(&mut spool)), expected(0..5));
}

#[test]
fn short_header_and_absurd_length_tails_are_cut() {
    for (tail, reason) in [
        (&[0xE7u8, 0x7A, 0xC3][..], "short header"),
        (
            &[
                0xE7, 0x7A, 0xC3, 0x28, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 1,
            ][..],
            "over the",
        ),
        (
            &[0xE7, 0x7A, 0xC3, 0x28, 200, 0, 0, 0, 1, 2, 3, 4, 5][..],
            "past the end",
        ),
        (&b"not a record"[..], "no record marker"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let o = opts(dir.path());
        let (mut spool, _) = open(&o);
        append_all(&mut spool, 0..2);
        drop(spool);
        let file = &seg_files(dir.path())[0];
        let end = segment::HEADER_LEN + 2 * RECORD;
        scribble(file, end, tail);
        let (mut spool, recovery) = open(&o);
        assert_eq!(recovery.torn.len(), 1, "{reason}");
        assert_eq!(recovery.torn[0].offset, end);
        assert_eq!(recovery.torn[0].cut_bytes, tail.len() as u64);
        assert!(recovery.torn[0].reason.contains(reason), "{recovery:?}");
        assert_eq!(payloads(&drain(&mut spool)), expected(0..2));
    }
}

#[test]
fn a_segment_torn_inside_its_header_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(segment::file_name(4)), b"ETSP").unwrap();
    let (mut spool, recovery) = open(&opts(dir.path()));
    assert_eq!(recovery.torn.len(), 1);
    assert_eq!(recovery.torn[0].cut_bytes, 4);
    assert!(seg_files(dir.path()).is_empty());
    let id = spool.append(b"x").unwrap().id.unwrap();
    assert_eq!(id.0.segment, 5, "segment numbers never go back");
}

#[test]
fn acks_survive_a_reopen_as_far_as_they_are_contiguous() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let (mut spool, _) = open(&o);
    append_all(&mut spool, 0..20);
    let got = drain(&mut spool);
    for (id, _) in &got[..5] {
        spool.ack(*id);
    }
    spool.ack(got[6].0);
    drop(spool);
    let (mut spool, recovery) = open(&o);
    assert_eq!(recovery.records, 15);
    // Record 6 was acknowledged out of order: only the prefix is remembered, so it comes again.
    assert_eq!(payloads(&drain(&mut spool)), expected(5..20));
}

#[test]
fn a_stale_cursor_replays_duplicates_never_loses() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let (mut spool, _) = open(&o);
    append_all(&mut spool, 0..20);
    let got = drain(&mut spool);
    spool.ack(got[0].0);
    spool.sync().unwrap();
    for (id, _) in &got[1..PER_SEGMENT as usize + 2] {
        spool.ack(*id);
    }
    // A crash: no cursor save on the way out (the first segment's deletion did save one).
    std::mem::forget(spool);
    let (mut spool, _) = open(&o);
    assert_eq!(
        payloads(&drain(&mut spool)),
        expected(PER_SEGMENT..20),
        "the deleted segment's records are gone, the rest come again"
    );
}

#[test]
fn tick_saves_the_cursor_once_the_interval_passed() {
    let dir = tempfile::tempdir().unwrap();
    let o = SpoolOptions {
        fsync: FsyncPolicy::Interval,
        fsync_interval: std::time::Duration::ZERO,
        ..opts(dir.path())
    };
    let (mut spool, _) = open(&o);
    append_all(&mut spool, 0..4);
    let got = drain(&mut spool);
    spool.ack(got[0].0);
    spool.ack(got[1].0);
    spool.tick().unwrap();
    std::mem::forget(spool);
    let (mut spool, _) = open(&o);
    assert_eq!(payloads(&drain(&mut spool)), expected(2..4));
}

#[test]
fn drop_oldest_deletes_whole_segments_and_counts_only_unacked_records() {
    let dir = tempfile::tempdir().unwrap();
    // Room for exactly three full segments: 3 * (8 + 13 * 18) = 726 bytes.
    let o = SpoolOptions {
        max_bytes: 3 * (segment::HEADER_LEN + u64::from(PER_SEGMENT) * RECORD),
        ..opts(dir.path())
    };
    let (mut spool, _) = open(&o);
    // Three full segments; the next record needs a fourth.
    append_all(&mut spool, 0..3 * PER_SEGMENT);
    let mut buf = Vec::new();
    let first = spool.next(&mut buf).unwrap().unwrap();
    let second = spool.next(&mut buf).unwrap().unwrap();
    spool.ack(first);
    let appended = spool.append(&payload(100)).unwrap();
    assert!(appended.id.is_some());
    assert_eq!(appended.dropped, u64::from(PER_SEGMENT) - 1);
    assert_eq!(spool.dropped(), u64::from(PER_SEGMENT) - 1);
    assert!(spool.bytes() <= o.max_bytes);
    assert_eq!(spool.pending(), 2 * u64::from(PER_SEGMENT) + 1);
    // The in-flight record went with its segment: its ack is ignored, reading moves on.
    spool.ack(second);
    assert_eq!(spool.pending(), 2 * u64::from(PER_SEGMENT) + 1);
    let rest = payloads(&drain(&mut spool));
    assert_eq!(rest[0], payload(PER_SEGMENT));
    assert_eq!(rest.last(), Some(&payload(100)));
    assert_eq!(rest.len(), 2 * PER_SEGMENT as usize + 1);
}

#[test]
fn drop_newest_refuses_the_new_record_and_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let o = SpoolOptions {
        max_bytes: 256,
        policy: DropPolicy::DropNewest,
        ..opts(dir.path())
    };
    let (mut spool, _) = open(&o);
    append_all(&mut spool, 0..PER_SEGMENT);
    for n in 1..=3 {
        let refused = spool.append(&payload(99)).unwrap();
        assert_eq!(
            refused,
            Appended {
                id: None,
                dropped: 1
            }
        );
        assert_eq!(spool.dropped(), n);
    }
    assert_eq!(payloads(&drain(&mut spool)), expected(0..PER_SEGMENT));
}

#[test]
fn a_payload_that_can_never_fit_is_refused_by_size() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(&opts(dir.path()));
    let err = spool.append(&[0; 5000]).unwrap_err();
    assert!(matches!(err, SpoolError::TooLarge { size: 5000, .. }));
    assert!(err.to_string().contains("5000"), "{err}");
    assert_eq!(spool.pending(), 0);
}

#[test]
fn a_segment_is_deleted_only_once_every_record_in_it_is_acked() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(&opts(dir.path()));
    append_all(&mut spool, 0..PER_SEGMENT + 1);
    let got = drain(&mut spool);
    let first = seg_files(dir.path())[0].clone();
    // Out of order, the first record last.
    for (id, _) in got[1..PER_SEGMENT as usize].iter().rev() {
        spool.ack(*id);
        assert!(first.exists());
    }
    spool.ack(got[0].0);
    assert!(!first.exists());
    // The segment still taking records goes too once drained, and the next append starts a
    // newer one.
    let second = seg_files(dir.path())[0].clone();
    spool.ack(got[PER_SEGMENT as usize].0);
    assert!(!second.exists());
    assert_eq!((spool.pending(), spool.bytes()), (0, 0));
    let id = spool.append(b"again").unwrap().id.unwrap();
    assert!(id > got[PER_SEGMENT as usize].0);
    assert_eq!(payloads(&drain(&mut spool)), vec![b"again".to_vec()]);
}

#[test]
fn rewind_hands_out_unacked_records_again_in_order_before_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(&opts(dir.path()));
    append_all(&mut spool, 0..6);
    let mut buf = Vec::new();
    let ids: Vec<_> = (0..4)
        .map(|_| spool.next(&mut buf).unwrap().unwrap())
        .collect();
    spool.ack(ids[1]);
    spool.rewind();
    assert_eq!((spool.pending(), spool.unsent()), (5, 5));
    append_all(&mut spool, 6..7);
    let again = drain(&mut spool);
    assert_eq!(payloads(&again), expected([0, 2, 3, 4, 5, 6]));
    assert_eq!(again[0].0, ids[0]);
    // An ack arriving late for a rewound record still counts.
    spool.rewind();
    spool.ack(ids[0]);
    assert_eq!(payloads(&drain(&mut spool)), expected([2, 3, 4, 5, 6]));
}

#[test]
fn foreign_files_are_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let foreign = [
        ("notes.txt", &b"keep me"[..]),
        ("00000000000000000007.seg", b"not a segment at all"),
        ("42.seg", b"short name"),
        ("cursor.bak", b"old"),
    ];
    for (name, bytes) in foreign {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    let (mut spool, recovery) = open(&o);
    assert_eq!(recovery, Recovery::default());
    let id = spool.append(b"x").unwrap().id.unwrap();
    assert_eq!(id.0.segment, 8, "a segment name in use is never taken");
    let got = drain(&mut spool);
    spool.ack(got[0].0);
    spool.sync().unwrap();
    drop(spool);
    open(&o);
    for (name, bytes) in foreign {
        assert_eq!(fs::read(dir.path().join(name)).unwrap(), bytes, "{name}");
    }
}

#[test]
fn a_segment_of_an_unknown_format_is_set_aside_and_the_spool_works() {
    let dir = tempfile::tempdir().unwrap();
    let name = segment::file_name(3);
    fs::write(dir.path().join(&name), b"ETSPOOL\x09more").unwrap();
    let (mut spool, recovery) = open(&opts(dir.path()));
    assert_eq!(recovery.set_aside, vec![dir.path().join(&name)]);
    assert!(!dir.path().join(&name).exists());
    let aside = dir.path().join(format!("{name}.unreadable"));
    assert_eq!(fs::read(&aside).unwrap(), b"ETSPOOL\x09more");
    let id = spool.append(b"x").unwrap().id.unwrap();
    assert_eq!(id.0.segment, 4, "segment numbers never go back");
    assert_eq!(payloads(&drain(&mut spool)), vec![b"x".to_vec()]);
}

#[test]
fn a_record_damaged_after_writing_is_dropped_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(&opts(dir.path()));
    append_all(&mut spool, 0..PER_SEGMENT + 2);
    let first = seg_files(dir.path())[0].clone();
    scribble(&first, segment::HEADER_LEN + RECORD + 13, b"!");
    let mut buf = Vec::new();
    let ok = spool.next(&mut buf).unwrap().unwrap();
    assert_eq!(buf, payload(0));
    let err = spool.next(&mut buf).unwrap_err();
    assert!(
        matches!(&err, SpoolError::Corrupt { path, offset, lost: 1, .. }
            if *path == first && *offset == segment::HEADER_LEN + RECORD),
        "{err}"
    );
    assert_eq!(spool.dropped(), 1);
    let rest = drain(&mut spool);
    assert_eq!(payloads(&rest), expected(2..PER_SEGMENT + 2));
    spool.ack(ok);
    for id in rest {
        spool.ack(id.0);
    }
    assert!(!first.exists());
}

#[test]
fn the_spool_stays_usable_after_a_failed_append() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(&opts(dir.path()));
    append_all(&mut spool, 0..PER_SEGMENT);
    // Something else took the next segment's name: the roll fails, naming it.
    let blocker = dir.path().join(segment::file_name(1));
    fs::create_dir(&blocker).unwrap();
    let err = spool.append(&payload(50)).unwrap_err();
    assert!(err.to_string().contains(&segment::file_name(1)), "{err}");
    assert_eq!(spool.pending(), u64::from(PER_SEGMENT));
    fs::remove_dir(&blocker).unwrap();
    append_all(&mut spool, 50..51);
    assert_eq!(
        payloads(&drain(&mut spool)),
        expected((0..PER_SEGMENT).chain([50]))
    );
}

#[test]
fn batch_fsync_appends_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let o = SpoolOptions {
        fsync: FsyncPolicy::Batch,
        ..opts(dir.path())
    };
    let (mut spool, _) = open(&o);
    append_all(&mut spool, 0..PER_SEGMENT + 1);
    assert!(spool.segments.iter().all(|s| !s.dirty));
    drop(spool);
    let (mut spool, recovery) = open(&o);
    assert_eq!(recovery.records, u64::from(PER_SEGMENT) + 1);
    assert_eq!(payloads(&drain(&mut spool)), expected(0..PER_SEGMENT + 1));
}

#[test]
fn options_too_small_to_hold_a_record_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Spool::open(SpoolOptions::new(dir.path(), 10))
        .err()
        .unwrap();
    assert!(err.to_string().contains("max_bytes"), "{err}");
    let err = Spool::open(SpoolOptions {
        segment_bytes: 3,
        ..SpoolOptions::new(dir.path(), 1000)
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("segment_bytes"), "{err}");
}

#[test]
fn ids_are_never_given_twice_even_after_recovery_deleted_the_newest_segment() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let (mut spool, _) = open(&o);
    let ids = append_all(&mut spool, 0..PER_SEGMENT + 1);
    drop(spool);
    let newest = seg_files(dir.path()).pop().unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&newest)
        .unwrap()
        .set_len(0)
        .unwrap();
    // The first open deletes the headerless newest segment, the second finds no trace of it.
    let (spool, recovery) = open(&o);
    assert_eq!(recovery.torn.len(), 1);
    drop(spool);
    let (mut spool, _) = open(&o);
    let new = spool.append(&payload(99)).unwrap().id.unwrap();
    assert!(ids.iter().all(|old| new > *old), "{new:?} after {ids:?}");
}

#[test]
fn settled_until_a_write_or_an_ack_needs_a_tick() {
    let dir = tempfile::tempdir().unwrap();
    let o = SpoolOptions {
        fsync: FsyncPolicy::Interval,
        fsync_interval: std::time::Duration::ZERO,
        ..opts(dir.path())
    };
    let (mut spool, _) = open(&o);
    assert!(spool.settled(), "a fresh spool has nothing to do");
    let ids = append_all(&mut spool, 0..2);
    assert!(!spool.settled(), "an unsynced append");
    spool.tick().unwrap();
    assert!(spool.settled());
    let mut buf = Vec::new();
    let first = spool.next(&mut buf).unwrap().unwrap();
    assert_eq!(first, ids[0]);
    spool.ack(first);
    assert!(!spool.settled(), "the cursor moved");
    spool.tick().unwrap();
    assert!(spool.settled());

    let never = SpoolOptions {
        fsync: FsyncPolicy::Never,
        ..o.clone()
    };
    drop(spool);
    let (mut spool, _) = open(&never);
    append_all(&mut spool, 2..3);
    assert!(spool.settled(), "fsync = never leaves writes to the OS");
}
