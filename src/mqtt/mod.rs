//! The only place that talks MQTT: the publisher, its payloads, and the embedded broker.
