"""The stack's zombie automation (deployments/zombies.py) on a real Prefect server, and the heartbeat the command
line sends when it reports to a running server (flows/console.py)."""

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def zombies_module():
    spec = importlib.util.spec_from_file_location("zombies", REPO / "deployments" / "zombies.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["zombies"] = module
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


def test_a_run_reporting_to_a_running_server_beats_as_the_stack_s_runs_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.settings import get_current_settings

    import flows.console as console

    url = "http://127.0.0.1:9/api"  # a server of the user's: its address is all the context needs
    monkeypatch.setattr(console, "running_server", lambda: url)
    for name in console.HEARTBEAT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with console.prefect_server() as found:
        assert found == url
        assert get_current_settings().api.url == url
        assert get_current_settings().flows.heartbeat_frequency == console.HEARTBEAT_SECONDS == 60
    # a heartbeat the user set is theirs
    assert console.heartbeat_updates({"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "90"}) == {}
    assert console.heartbeat_updates({"PREFECT_RUNNER_HEARTBEAT_FREQUENCY": "90"}) == {}
