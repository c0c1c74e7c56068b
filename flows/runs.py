"""What a flow run works on when its parameters leave it open: the config file, the day, the run's name.

The config path: the `config` parameter, else the environment variable SEGMENTS_CONFIG (set on the
worker), else the Prefect Variable `segments_config` (set in the UI, Variables), else
`demo-data/config.yaml` relative to the run's working directory.

The day: a run without `as_of` refreshes the last complete day: its scheduled date (the start time
for a run that was not scheduled) in the config's time zone, minus `orchestration.scheduled_day_lag`
days (1 by default). A day that has not ended when its run starts is computed from incomplete data:
it is published as partial and recomputed by the next run or a backfill.
"""

import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from prefect.runtime import flow_run

from tasks.shared.config import ConfigError, PipelineConfig, load_config
from tasks.shared.errors import DataError

CONFIG_ENV = "SEGMENTS_CONFIG"
CONFIG_VARIABLE = "segments_config"
DEFAULT_CONFIG = "demo-data/config.yaml"


def config_path(config: str | None) -> str:
    """The config file a run uses: the parameter, $SEGMENTS_CONFIG, the Prefect Variable, or the default."""
    if config:
        return config
    if os.environ.get(CONFIG_ENV):
        return os.environ[CONFIG_ENV]
    from prefect.variables import Variable

    return str(Variable.get(CONFIG_VARIABLE, default=None) or DEFAULT_CONFIG)


def run_moment() -> datetime:
    """When this run is due: its scheduled start (Prefect gives it in UTC), or now outside a run."""
    scheduled = flow_run.scheduled_start_time
    return scheduled if isinstance(scheduled, datetime) else datetime.now(ZoneInfo("UTC"))


def default_as_of(pipeline: PipelineConfig, moment: datetime | None = None) -> date:
    """The last complete day at moment (default: the run's scheduled time), in the config's time zone."""
    local = (moment or run_moment()).astimezone(ZoneInfo(pipeline.timezone))
    return local.date() - timedelta(days=pipeline.orchestration.scheduled_day_lag)


def is_partial(pipeline: PipelineConfig, as_of: date, started: datetime) -> bool:
    """Whether as_of had not ended (in the config's time zone) when a run that started at `started` began."""
    return started < pipeline.cutoff(as_of)


def partial_day(pipeline: PipelineConfig, as_of: date, started: datetime) -> bool:
    """is_partial for a run of as_of that starts at `started`; a DataError when as_of has not begun."""
    if as_of > pipeline.today():
        raise DataError(
            f"as_of {as_of} is in the future (today is {pipeline.today()} in {pipeline.timezone}): "
            "a day can be computed once it has begun"
        )
    return is_partial(pipeline, as_of, started)


def refresh_run_name() -> str:
    """`daily-refresh-YYYY-MM-DD`: the day the run refreshes, for scheduled and manual runs alike."""
    parameters = flow_run.parameters or {}
    as_of = parameters.get("as_of")
    if not as_of:
        try:
            as_of = default_as_of(load_config(config_path(parameters.get("config"))))
        except (ConfigError, OSError):  # the run itself reports the config error; the name only needs a day
            as_of = run_moment().date()
    return f"daily-refresh-{as_of}"
