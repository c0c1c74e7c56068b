"""The stack's automation that marks a flow run Crashed when its heartbeats stop (a SIGKILLed run, a lost machine).

Prefect leaves such a run Running forever: nothing of the dead process tells the server. Flow runs started by the
stack's worker send a heartbeat every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (deployments/stack.sh sets it);
this automation, created once per server by `deployments/stack.sh up`, marks a run Crashed when neither another
heartbeat nor a final state followed one within three beats, and at least a minute more than Prefect's default
beat (Prefect's "detect zombie flows" recipe). `segments run` and `segments backfill` send the stack's beat when
they report to a running server (flows/console.py). Run with the stack's PREFECT_API_URL:
`python deployments/zombies.py`.
"""

from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.settings import get_current_settings
from prefect.settings.models.flows import FlowsSettings

NAME = "segments: crash flow runs without heartbeats"


def silence_seconds(heartbeat_seconds: int) -> int:
    """How long without a heartbeat a run is taken for dead: three missed beats, and at least a minute more than
    Prefect's default beat, so that a process that does not set the stack's (a script of the user's, sending
    every 180 s) is never crashed while it runs."""
    default = FlowsSettings.model_fields["heartbeat_frequency"].default
    return max(3 * heartbeat_seconds, default + 60)


def zombie_automation(heartbeat_seconds: int) -> Automation:
    """The automation for heartbeats every heartbeat_seconds: Crashed after silence_seconds without one."""
    silence = silence_seconds(heartbeat_seconds)
    return Automation(
        name=NAME,
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=silence),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {silence} s: the process running it is gone "
                "(killed, or its machine lost); a refresh left nothing half-published, run it again",
            )
        ],
    )


def main() -> None:
    """Create the automation unless the server has it (`stack.sh up` is idempotent), for the heartbeat the flow runs
    send (Prefect's setting, which the stack sets); one that differs is replaced by this one (an action added to it
    in the UI is not kept; switched off, it stays off)."""
    heartbeat = get_current_settings().flows.heartbeat_frequency
    if heartbeat is None:
        print("flow runs send no heartbeat (PREFECT_FLOWS_HEARTBEAT_FREQUENCY unset): no zombie automation")
        return
    wanted = zombie_automation(heartbeat)
    does = f"a flow run without a heartbeat for {silence_seconds(heartbeat)} s is Crashed"
    try:
        found = Automation.read(name=NAME)
    except ValueError:
        wanted.create()
        print(f"automation {NAME!r} created: {does}")
        return
    if found.trigger == wanted.trigger and found.actions == wanted.actions:
        print(f"automation {NAME!r} already on the server")
        return
    # made by an earlier version, or for another heartbeat: brought up to date (switched off stays off)
    wanted.id, wanted.enabled = found.id, found.enabled
    wanted.update()
    print(f"automation {NAME!r} updated: {does}")


if __name__ == "__main__":
    main()
