//! Retained messages we own on the broker (the discovery configs), as a pure state machine:
//! which to publish, which to clear with an empty retained payload, and which topics may still
//! hold something of ours (kept in `state_dir`, so a restart after a config change still
//! clears what the previous run published).
//!
//! Three sets: `desired` (topic → payload the broker should hold), `published` (what this
//! connection's session has been given), `held` (every topic the broker may hold a message of
//! ours on: a superset of `published`, grown *before* publishing, shrunk after a clear was
//! handed to the client).

use std::collections::{BTreeMap, BTreeSet};

/// One retained publish to make: `payload` empty = clear the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Due {
    /// The topic.
    pub topic: String,
    /// The payload; empty clears the topic.
    pub payload: String,
}

/// See the module documentation.
#[derive(Debug, Default, Clone)]
pub(crate) struct RetainedSet {
    desired: BTreeMap<String, String>,
    published: BTreeMap<String, String>,
    held: BTreeSet<String>,
}

impl RetainedSet {
    /// Starts with `held`, the topics an earlier run may have left retained.
    pub(crate) fn new(held: BTreeSet<String>) -> Self {
        RetainedSet {
            held,
            ..Default::default()
        }
    }

    /// The broker should hold exactly `desired` (of the topics we own).
    pub(crate) fn want(&mut self, desired: BTreeMap<String, String>) {
        self.desired = desired;
    }

    /// The broker may have lost what this session published (a new session, a new client,
    /// Home Assistant asking again): publish everything desired again.
    pub(crate) fn republish(&mut self) {
        self.published.clear();
    }

    /// The next publish to make, if any: changed or missing configs first, then clears.
    pub(crate) fn next(&self) -> Option<Due> {
        let publish = self
            .desired
            .iter()
            .find(|(t, p)| self.published.get(*t) != Some(*p))
            .map(|(t, p)| Due {
                topic: t.clone(),
                payload: p.clone(),
            });
        publish.or_else(|| {
            self.held
                .iter()
                .find(|t| !self.desired.contains_key(*t))
                .map(|t| Due {
                    topic: t.clone(),
                    payload: String::new(),
                })
        })
    }

    /// Topics to add to `held` (and to persist) before `due` may be published; empty when
    /// nothing needs recording first. Every desired topic goes in at once, so a first start
    /// writes the record once rather than once per config.
    pub(crate) fn to_record(&self, due: &Due) -> Vec<String> {
        if due.payload.is_empty() || self.held.contains(&due.topic) {
            return Vec::new();
        }
        self.desired
            .keys()
            .filter(|t| !self.held.contains(*t))
            .cloned()
            .collect()
    }

    /// `topics` are recorded (persisted): they may now be published.
    pub(crate) fn recorded(&mut self, topics: Vec<String>) {
        self.held.extend(topics);
    }

    /// `due` was handed to the client.
    pub(crate) fn sent(&mut self, due: Due) {
        if due.payload.is_empty() {
            self.published.remove(&due.topic);
            self.held.remove(&due.topic);
        } else {
            debug_assert!(self.held.contains(&due.topic), "published before recorded");
            self.published.insert(due.topic, due.payload);
        }
    }

    /// The topics that may hold a message of ours.
    pub(crate) fn held(&self) -> &BTreeSet<String> {
        &self.held
    }

    /// Whether anything is left to publish or clear.
    pub(crate) fn pending(&self) -> bool {
        self.next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
        items
            .iter()
            .map(|(t, p)| (t.to_string(), p.to_string()))
            .collect()
    }

    /// Hands out everything due; returns what was sent, in order.
    fn drain(r: &mut RetainedSet) -> Vec<Due> {
        let mut out = Vec::new();
        while let Some(due) = r.next() {
            let rec = r.to_record(&due);
            r.recorded(rec);
            r.sent(due.clone());
            out.push(due);
        }
        out
    }

    #[test]
    fn changes_publish_only_what_differs_and_clear_what_went() {
        let mut r = RetainedSet::new(BTreeSet::new());
        r.want(map(&[("a", "1"), ("b", "1")]));
        assert_eq!(drain(&mut r).len(), 2);
        r.want(map(&[("a", "2"), ("c", "1")]));
        let sent = drain(&mut r);
        let got: Vec<(&str, &str)> = sent
            .iter()
            .map(|d| (d.topic.as_str(), d.payload.as_str()))
            .collect();
        assert_eq!(got, [("a", "2"), ("c", "1"), ("b", "")]);
        assert_eq!(r.held().iter().collect::<Vec<_>>(), ["a", "c"]);
        r.republish();
        assert_eq!(drain(&mut r).len(), 2, "all desired again, no clear twice");
        r.want(BTreeMap::new());
        assert!(drain(&mut r).iter().all(|d| d.payload.is_empty()));
        assert!(r.held().is_empty() && !r.pending());
    }

    #[test]
    fn an_earlier_run_s_topics_are_cleared_and_recorded_ones_kept() {
        let held: BTreeSet<String> = ["old", "a"].iter().map(|s| s.to_string()).collect();
        let mut r = RetainedSet::new(held);
        r.want(map(&[("a", "1"), ("b", "1")]));
        let first = r.next().unwrap();
        assert_eq!(first.topic, "a");
        assert!(r.to_record(&first).is_empty(), "a is recorded already");
        r.sent(first);
        let second = r.next().unwrap();
        assert_eq!(r.to_record(&second), ["b".to_string()]);
        let sent = drain(&mut r);
        assert_eq!(
            sent.last().unwrap(),
            &Due {
                topic: "old".into(),
                payload: String::new()
            }
        );
    }

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
}
