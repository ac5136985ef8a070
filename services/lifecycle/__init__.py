"""Lifecycle intelligence: automatic stages, value scores, rule segments, churn alarms, reasons.

``rules`` and ``alarms`` are pure functions of a customer's facts, the time and the config, so the
incremental pass (on every `recordEvents`) and the full recompute agree by construction.
"""
