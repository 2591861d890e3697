"""Live airspace feeds (低空安保实时接入): the I/O edge of the airspace vertical.

The airspace core (:mod:`haizhou.airspace`) is pure; this adapter package brings it messages
and keeps what happens:

* :mod:`.messages` — one received message (:class:`FeedMessage`), MQTT topic names, payloads;
* :mod:`.pipeline` — decode → tracker → classify → control/threat → alerts
  (:class:`LivePipeline`, no I/O, the clock passed in);
* :mod:`.area` — the control register (zones, permits, protected site) from the store;
* :mod:`.recorder` — writes messages, tracks, alerts, incidents and timeline, batched;
* :mod:`.mqtt` — the MQTT subscriber (paho-mqtt 2.x, QoS 1, persistent session, reconnect);
* :mod:`.runner` — the long-running loop of ``haizhou airspace run``.

Formats are documented in ``docs/airspace.md``. Like the other adapters, nothing here imports
:mod:`haizhou.api` or :mod:`haizhou.cli`.
"""
