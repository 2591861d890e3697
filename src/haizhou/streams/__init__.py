"""Event streams over NATS JetStream (事件流), partitioned by area.

Sensing-point sightings and airspace sensor messages flow through two JetStream streams:

* ``<ROOT>_SIGHTINGS`` on subjects ``<root>.sightings.<area>`` — JSON lists of pseudonymised
  sightings (identifiers in clear never reach JetStream's disk: the bridge and the publishers
  pseudonymise first);
* ``<ROOT>_AIRSPACE`` on subjects ``<root>.airspace.<area>.<sensor>.<kind>`` — sensor
  messages as received, with the receive time in a header.

Durable pull consumers share the work (:mod:`haizhou.streams.consumer`), acknowledge only after
the store committed, and keep at most ``max_ack_pending`` messages in flight; publishers wait
for every PubAck with a bounded number outstanding (:mod:`haizhou.streams.publisher`); the MQTT
bridge (:mod:`haizhou.streams.bridge`) acknowledges a device's QoS 1 message only after
JetStream stored it. PostgreSQL monthly partitions of the event tables:
:mod:`haizhou.streams.partitions`.
"""

from haizhou.streams.config import StreamError, StreamsConfig

__all__ = ["StreamError", "StreamsConfig"]
