"""What a run works on when its parameters leave it open: config path, day, partial days."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flows.runs import CONFIG_ENV, config_path, default_as_of, is_partial
from tasks.shared.config import load_config
from tests.conftest import write_config


@pytest.fixture
def pipeline(tmp_path: Path):
    return load_config(write_config(tmp_path / "data", tmp_path))  # Asia/Shanghai, UTC+8


def test_the_parameter_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, "/etc/segments/config.yaml")
    assert config_path("mine.yaml") == "mine.yaml"
    assert config_path(None) == "/etc/segments/config.yaml"
    assert config_path("") == "/etc/segments/config.yaml"


def test_a_06_00_run_refreshes_the_previous_day_in_the_config_time_zone(pipeline) -> None:
    # 06:00 Asia/Shanghai on 2026-03-10 is 22:00 UTC on 2026-03-09
    assert default_as_of(pipeline, datetime(2026, 3, 9, 22, 0, tzinfo=UTC)) == date(2026, 3, 9)
    # 07:30 Shanghai is 23:30 UTC the day before: still the 9th, the last complete day in Shanghai
    assert default_as_of(pipeline, datetime(2026, 3, 9, 23, 30, tzinfo=UTC)) == date(2026, 3, 9)
    # 08:30 Shanghai on the 10th is 00:30 UTC on the 10th
    assert default_as_of(pipeline, datetime(2026, 3, 10, 0, 30, tzinfo=UTC)) == date(2026, 3, 9)


def test_a_lag_of_zero_refreshes_the_scheduled_day_itself(pipeline) -> None:
    same_day = pipeline.model_copy(
        update={"orchestration": pipeline.orchestration.model_copy(update={"scheduled_day_lag": 0})}
    )
    assert default_as_of(same_day, datetime(2026, 3, 9, 22, 0, tzinfo=UTC)) == date(2026, 3, 10)


def test_a_day_is_partial_until_it_has_ended_in_the_config_time_zone(pipeline) -> None:
    # 2026-03-09 ends at 2026-03-10 00:00 Shanghai = 2026-03-09 16:00 UTC
    assert is_partial(pipeline, date(2026, 3, 9), datetime(2026, 3, 9, 15, 59, 59, tzinfo=UTC))
    assert not is_partial(pipeline, date(2026, 3, 9), datetime(2026, 3, 9, 16, 0, tzinfo=UTC))
    assert not is_partial(pipeline, date(2026, 3, 8), datetime(2026, 3, 9, 1, 0, tzinfo=UTC))
