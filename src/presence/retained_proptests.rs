//! Model test of [`RetainedSet`] against a model broker.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

/// An operation of the model test.
#[derive(Debug, Clone)]
enum Op {
    /// The config now wants these (topic index → payload).
    Want(BTreeMap<u8, u8>),
    /// Hand out up to n dues.
    Send(u8),
    /// A new connection; the broker kept its retained messages or lost them.
    Connect { resumed: bool, broker_lost: bool },
    /// Home Assistant said `online`.
    Online,
    /// The process restarts from the persisted record (the client and its queue are lost).
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        prop::collection::btree_map(0u8..6, 0u8..3, 0..5).prop_map(Op::Want),
        (1u8..8).prop_map(Op::Send),
        (any::<bool>(), any::<bool>()).prop_map(|(resumed, broker_lost)| Op::Connect {
            resumed,
            broker_lost
        }),
        Just(Op::Online),
        Just(Op::Restart),
    ]
}

/// Hands out up to `n` dues to a model broker, recording as the publisher does: before a
/// publish, and once nothing is left (so the record lags behind clears, never publishes).
fn send(
    r: &mut RetainedSet,
    disk: &mut BTreeSet<String>,
    broker: &mut BTreeMap<String, String>,
    n: usize,
) -> Result<(), TestCaseError> {
    for _ in 0..n {
        let Some(due) = r.next() else { break };
        let rec = r.to_record(&due);
        disk.extend(rec.iter().cloned());
        r.recorded(rec);
        if due.payload.is_empty() {
            broker.remove(&due.topic);
        } else {
            broker.insert(due.topic.clone(), due.payload.clone());
        }
        r.sent(due);
        if !r.pending() {
            *disk = r.held().clone();
        }
        prop_assert!(
            broker.keys().all(|t| disk.contains(t)),
            "published unrecorded"
        );
    }
    Ok(())
}

proptest! {
    /// Against a model broker: whatever the sequence of config changes, reconnects (a
    /// resumed session keeps the broker's messages, a new one may have lost them) and
    /// restarts, once everything due is sent the broker holds exactly the desired configs,
    /// and nothing of ours anywhere else.
    #[test]
    fn the_broker_ends_up_holding_exactly_what_is_desired(ops in prop::collection::vec(op(), 1..40)) {
        let topic = |i: u8| format!("t{i}");
        let mut broker: BTreeMap<String, String> = BTreeMap::new();
        let mut disk: BTreeSet<String> = BTreeSet::new();
        let mut r = RetainedSet::new(disk.clone());
        let mut desired = BTreeMap::new();
        for op in ops {
            match op {
                Op::Want(w) => {
                    desired = w.iter().map(|(t, p)| (topic(*t), p.to_string())).collect();
                    r.want(desired.clone());
                }
                Op::Send(n) => send(&mut r, &mut disk, &mut broker, usize::from(n))?,
                Op::Connect { resumed, broker_lost } => {
                    if !resumed {
                        if broker_lost {
                            broker.clear();
                        }
                        r.republish();
                    }
                }
                Op::Online => r.republish(),
                Op::Restart => {
                    r = RetainedSet::new(disk.clone());
                    r.want(desired.clone());
                }
            }
        }
        send(&mut r, &mut disk, &mut broker, usize::MAX)?;
        prop_assert_eq!(&broker, &desired);
        prop_assert_eq!(r.held(), &desired.keys().cloned().collect::<BTreeSet<_>>());
    }
}
