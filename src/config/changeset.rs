//! What a config change touches in the running agent: the sections' `classify` fill it in, the
//! agent rebuilds what it names.

/// The parts of the running agent a config change touches. Empty = nothing to rebuild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Pins watched now but not before (ascending): start decoding and filtering them.
    pub pins_added: Vec<u8>,
    /// Pins no longer watched (ascending): stop them and clear their retained state.
    pub pins_removed: Vec<u8>,
    /// Pins watched before and now whose filter settings differ (ascending): rebuild their
    /// filter; other pins keep their filter state.
    pub filters_changed: Vec<u8>,
    /// Pins whose rate limit (`max_edges_per_s`) changed (ascending): rebuild their limiter.
    pub limits_changed: Vec<u8>,
    /// Pins whose `pull` changed to up, down or none (ascending): the sampler sets their pads
    /// again (a change to `keep` leaves the pad as it is).
    pub pulls_changed: Vec<u8>,
    /// Pins whose `name` or `device_class` alone changed (ascending): republish discovery and
    /// info only.
    pub names_changed: Vec<u8>,
    /// Pins whose meter or watchdog settings changed, or whose meter came or went (ascending):
    /// the meter takes them and keeps its total.
    pub meters_changed: Vec<u8>,
    /// Pins whose meter total a patch set to zero (`meter.reset`, an action).
    pub meters_reset: Vec<u8>,
    /// Pins whose publishing changed (`publish_edges`, `publish_level`, a meter came or went):
    /// discovery, `info` and the retained topics follow.
    pub publishing_changed: Vec<u8>,
    /// Backend, period, block size or replay settings changed: restart the sampler (with a gap
    /// event). Pins alone never restart it: the sampler reads every level anyway.
    pub sampler_restart: bool,
    /// Batch limits, payload format or queue size changed.
    pub batch_changed: bool,
    /// Host, port, credentials, keep-alive, topic prefix or embedded broker changed: reconnect,
    /// and arm the rollback timer (`mqtt.rollback_after_s`).
    pub mqtt_reconnect: bool,
    /// QoS, reconnect backoff or rollback timeout changed: the publisher takes them without
    /// reconnecting.
    pub mqtt_tuning: bool,
    /// Topic prefix, device id or groups changed: subscriptions and retained topics move.
    pub topics_changed: bool,
    /// The stats interval changed.
    pub stats_changed: bool,
    /// Home Assistant discovery settings changed: discovery is republished (or removed).
    pub homeassistant_changed: bool,
    /// Spool settings changed: the publisher reopens the spool with them (nothing spooled is
    /// lost; batches in flight are resent).
    pub spool_changed: bool,
}

impl ChangeSet {
    /// True when the change touches nothing the agent runs (e.g. a no-op patch).
    pub fn is_empty(&self) -> bool {
        *self == ChangeSet::default()
    }
}
