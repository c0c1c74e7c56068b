"""Unit tests of tasks.features.activity.record_settings: which config changes rebuild the activity roll-up."""

from __future__ import annotations

from pathlib import Path

from tasks.features.activity import record_settings
from tasks.shared.config import load_config

DEMO = Path(__file__).resolve().parents[3] / "config" / "demo.yaml"


def test_settings_change_with_what_maps_an_event_to_its_record() -> None:
    config = load_config(DEMO)
    base = record_settings(config)
    assert record_settings(config) == base  # stable
    changes = [
        config.model_copy(update={"dedupe": config.dedupe.model_copy(update={"placeholders": ["x@x.cn"]})}),
        config.model_copy(update={"dedupe": config.dedupe.model_copy(update={"default_region": "US"})}),
        config.model_copy(
            update={"dedupe": config.dedupe.model_copy(update={"email_provider_rules": ["gmail"]})}
        ),
        config.model_copy(
            update={"sources": [s.model_copy(update={"customer_source": None}) for s in config.sources]}
        ),
    ]
    assert len({base, *(record_settings(c) for c in changes)}) == 1 + len(changes)


def test_settings_ignore_config_that_does_not_map_events() -> None:
    config = load_config(DEMO)
    other = config.model_copy(update={"dedupe": config.dedupe.model_copy(update={"match_threshold": 0.5})})
    assert record_settings(other) == record_settings(config)
