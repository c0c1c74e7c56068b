"""The stack's zombie automation (deployments/zombies.py) on a real Prefect server."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def zombies_module():
    spec = importlib.util.spec_from_file_location("zombies", REPO / "deployments" / "zombies.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_automation_waits_longer_than_any_beat_and_is_brought_up_to_date(
    prefect_server: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.automations import Automation
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    zombies = zombies_module()
    # three missed beats of the stack's 60 s would be Prefect's default beat (180 s): a process that does not set
    # the stack's would be crashed while it runs; a minute more than the default, or three beats if longer
    assert [zombies.silence_seconds(s) for s in (30, 60, 80, 100)] == [240, 240, 240, 300]
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}):
        zombies.main()
        zombies.main()
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 100}):
        zombies.main()
    assert capsys.readouterr().out.splitlines() == [
        f"automation {zombies.NAME!r} created: a flow run without a heartbeat for 240 s is Crashed",
        f"automation {zombies.NAME!r} already on the server",
        f"automation {zombies.NAME!r} updated: a flow run without a heartbeat for 300 s is Crashed",
    ]
    automation = Automation.read(name=zombies.NAME)
    assert automation.trigger.within == timedelta(seconds=300)
    assert automation.actions[0].message.startswith("no heartbeat for 300 s: ")
    automation.delete()
