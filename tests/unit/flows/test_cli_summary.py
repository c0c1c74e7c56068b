"""The command line's run summary: the table of sources says why a source read no file, and what it dropped."""

from dataclasses import asdict

from flows.run_summary import dedupe_line, source_lines
from tasks.extract import SourceLoad


def test_the_sources_table_says_what_an_unchanged_removed_or_restaged_source_did() -> None:
    loads = [
        SourceLoad("crm", "customers", 2, 1, 1_200, 1_180, 15, 5, "loaded"),
        SourceLoad("game", "events", 20, 0, 0, 0, 0, 0, "unchanged"),
        SourceLoad("pay", "transactions", 2, 1, 996, 990, 6, 0, "restaged", rows_unattributed=12),
        SourceLoad("social", "events", 1, 0, 0, 0, 0, 0, "removed"),
        SourceLoad("survey", "feedback", 1, 1, 40, 37, 0, 0, "loaded", rows_erased=3),
        SourceLoad("web", "events", 1, 1, 9, 8, 0, 0, "loaded", rows_erased=1),
    ]
    assert source_lines([asdict(load) for load in loads]) == [
        "Sources             files read   rows read     staged  quarantined  duplicates  unattributed",
        "  crm                       1/2       1,200      1,180           15           5             0",
        "  game                     0/20           0          0            0           0             0  nothing new",
        "  pay                       1/2         996        990            6           0            12"
        "  config changed: every row checked again (the counts are of all its rows)",
        "  social                    0/1           0          0            0           0             0"
        "  nothing new; files gone since the last load: their rows removed (the log names them)",
        "  survey                    1/1          40         37            0           0             0"
        "  3 rows of erased people dropped",
        "  web                       1/1           9          8            0           0             0"
        "  1 row of erased people dropped",
    ]


def test_the_dedupe_line_says_how_many_records_a_probabilistic_link_alone_merged() -> None:
    # the Olist trial: 5,888 links, all inside groups its exact key had joined: none merged a record
    dedupe = {"customers": 5679, "records": 10000, "merged_records": 7205, "probabilistic_records": 0}
    assert dedupe_line({**dedupe, "probabilistic_links": 5888}) == (
        "Customers after dedupe: 5,679 from 10,000 customer records (7,205 records merged with another, 0 of them by a "
        "probabilistic link only; 5,888 probabilistic links)"
    )
    assert dedupe_line({**dedupe, "probabilistic_links": 5888, "one_to_one_dropped": 3}).endswith(
        "5,888 probabilistic links, 3 left out by one_to_one)"
    )
