"""The alert domain: anomaly scores, standards and forecasts turned into alerts operators act on.

Modules (one job each):

* :mod:`~alerts.config` — the configurable rules and levels (``config/alert_rules.json``).
* :mod:`~alerts.model` — :class:`~alerts.model.Alert`, its states, timeline entries.
* :mod:`~alerts.rules` — vectorised per-reading rule evaluation (standards, scores, faults).
* :mod:`~alerts.hysteresis` — raise after k breaches / clear after m normals, per sensor.
* :mod:`~alerts.grouping` — one alert per (source, type); many in one area → an area alert.
* :mod:`~alerts.engine` — :class:`~alerts.engine.AlertEngine`, the engine worker's step.
* :mod:`~alerts.store` — durable alerts and their timeline (SQLite / PostgreSQL).
* :mod:`~alerts.lifecycle` — acknowledge, assign, comment, clear, escalate, incident link.
* :mod:`~alerts.publish` — active alerts as ``alert:<id>`` documents in the state store.
* :mod:`~alerts.cap` / :mod:`~alerts.cap_parse` — CAP 1.2 out and in, with validation.
"""
