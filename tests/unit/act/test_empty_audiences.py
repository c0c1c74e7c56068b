"""What the act stage says of an audience without members: nobody in a segment that exists, or a name to check."""

import logging
from datetime import date

from tasks.act import empty_audience
from tests.unit.act.act_world import pipeline

AS_OF = date(2026, 3, 1)


def said(tmp_path, segment: str) -> tuple[int, str]:
    # a config that names the segment is read (a rule or lookalike it lacks is refused there, before any run)
    pipeline(tmp_path, audiences=[{"name": "a", "label_en": "A", "label_zh": "甲", "segment": segment}])
    return empty_audience({"audience": "a", "segment": segment}, AS_OF)


def test_a_segment_that_exists_but_holds_nobody_is_said_as_such(tmp_path) -> None:
    for segment in (
        "rules:card_fans",
        "tier:high",
        "lifecycle:churned",
        "risk:low",
        "rfm:Champions",
        "rfm_cn:重要价值客户",
    ):
        assert said(tmp_path, segment) == (
            logging.INFO,
            f"audience a has no members: nobody is in {segment} as of 2026-03-01",
        )


def test_a_name_that_may_be_misspelt_is_asked_about(tmp_path) -> None:
    assert said(tmp_path, "rfm:Champion") == (
        logging.WARNING,
        "audience a has no members: act: audience 'a' names 'rfm:Champion', but rfm has no segment 'Champion' "
        "(it has: Champions, Loyal, Potential Loyalist, New, Promising, Need Attention, "
        "About To Sleep, At Risk, Can't Lose Them, Hibernating, Lost, No Purchase)",
    )
    for segment in ("tier:hgh", "cluster:7"):
        assert said(tmp_path, segment) == (
            logging.WARNING,
            f"audience a has no members: is {segment} a segment of the day (scheme:segment, spelt as published)?",
        )
