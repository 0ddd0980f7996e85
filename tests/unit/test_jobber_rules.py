"""Jobber's pure rules: which time a visit takes, the diff that makes the shadow rows match
Jobber (idempotent, never touching other sources or technicians), the poll window and drift."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from nmc_domain.scheduling.jobber import (
    JOBBER,
    RECONNECT_NEEDED,
    BlockChanges,
    JobberLink,
    JobberNotConfigured,
    JobberVisit,
    after_poll,
    after_sync_failure,
    poll_window,
    reconcile,
    visit_span,
)
from nmc_domain.scheduling.model import BusyBlock

CHICAGO = ZoneInfo("America/Chicago")
TENANT = uuid.UUID("7f1c2d3e-0000-4000-8000-00000000ac3e")
ROSA = uuid.UUID("11111111-0000-4000-8000-000000000001")
MIGUEL = uuid.UUID("22222222-0000-4000-8000-000000000002")
TECHS = {"rosa@acme-plumbing.example": ROSA, "miguel@acme-plumbing.example": MIGUEL}
NINE = datetime(2025, 1, 7, 15, 0, tzinfo=UTC)  # 9 am in Chicago


def visit(
    visit_id: str = "VISIT-1",
    *,
    start: datetime | None = NINE,
    hours: float = 2,
    emails: tuple[str, ...] = ("rosa@acme-plumbing.example",),
    **more: object,
) -> JobberVisit:
    end = None if start is None else start + timedelta(hours=hours)
    return JobberVisit(visit_id, "JOB-1", start, end, assignee_emails=emails, **more)  # type: ignore[arg-type]


def apply(blocks: list[BusyBlock], changes: BlockChanges) -> list[BusyBlock]:
    """What a repository does with the changes."""
    gone = {b.id for b in changes.removed} | {b.id for b in changes.moved}
    return [b for b in blocks if b.id not in gone] + list(changes.moved) + list(changes.added)


def test_a_timed_visit_takes_its_own_hours() -> None:
    assert visit_span(visit(), CHICAGO) == (NINE, NINE + timedelta(hours=2))


def test_unscheduled_cancelled_and_empty_visits_take_no_time() -> None:
    assert visit_span(visit(start=None), CHICAGO) is None
    assert visit_span(visit(status="UNSCHEDULED"), CHICAGO) is None
    assert visit_span(visit(status="cancelled"), CHICAGO) is None
    assert visit_span(visit(hours=0), CHICAGO) is None
    assert visit_span(visit(hours=-1), CHICAGO) is None


def test_a_completed_visit_still_takes_its_time() -> None:
    assert visit_span(visit(status="COMPLETED"), CHICAGO) is not None


def test_an_all_day_visit_takes_the_whole_local_day() -> None:
    # Jobber's all-day visit: midnight to midnight in the account's zone (here given in UTC).
    start = datetime(2025, 1, 7, 6, 0, tzinfo=UTC)  # midnight in Chicago
    span = visit_span(visit(start=start, hours=24, all_day=True), CHICAGO)
    assert span == (
        datetime(2025, 1, 7, tzinfo=CHICAGO),
        datetime(2025, 1, 8, tzinfo=CHICAGO),
    )


def test_an_all_day_visit_ending_within_its_last_day_still_takes_that_day() -> None:
    start = datetime(2025, 1, 7, 14, 0, tzinfo=UTC)
    span = visit_span(visit(start=start, hours=30, all_day=True), CHICAGO)
    assert span == (datetime(2025, 1, 7, tzinfo=CHICAGO), datetime(2025, 1, 9, tzinfo=CHICAGO))
    same = visit_span(visit(start=start, hours=0, all_day=True), CHICAGO)
    assert same == (datetime(2025, 1, 7, tzinfo=CHICAGO), datetime(2025, 1, 8, tzinfo=CHICAGO))


def test_an_all_day_visit_on_the_day_clocks_spring_forward_lasts_23_hours() -> None:
    # 9 March 2025: Chicago moves from CST to CDT at 2 am.
    start = datetime(2025, 3, 9, 6, 0, tzinfo=UTC)
    span = visit_span(visit(start=start, hours=23, all_day=True), CHICAGO)
    assert span is not None
    assert span[1] - span[0] == timedelta(hours=23)
    assert span[0].astimezone(UTC) == start


def test_assignees_map_to_technicians_by_email_any_case() -> None:
    both = visit(emails=(" Rosa@ACME-plumbing.example ", "miguel@acme-plumbing.example"))
    changes = reconcile(TENANT, [], [both], TECHS, CHICAGO)
    assert sorted(b.technician_id for b in changes.added) == sorted([ROSA, MIGUEL])
    assert {(b.source, b.external_id) for b in changes.added} == {(JOBBER, "VISIT-1")}
    assert changes.jobs == {"VISIT-1": "JOB-1"}
    assert changes.forgotten == frozenset()


def test_unknown_and_missing_assignees_block_nobody() -> None:
    stranger = visit(emails=("helper@elsewhere.example",))
    nobody = visit("VISIT-2", emails=())
    changes = reconcile(TENANT, [], [stranger, nobody], TECHS, CHICAGO)
    assert changes == BlockChanges(forgotten=frozenset({"VISIT-1", "VISIT-2"}))
    assert changes.count == 0


def test_a_moved_visit_moves_its_block_and_keeps_its_id() -> None:
    first = reconcile(TENANT, [], [visit()], TECHS, CHICAGO)
    later = visit(start=NINE + timedelta(hours=3))
    changes = reconcile(TENANT, first.added, [later], TECHS, CHICAGO)
    assert changes.count == 1
    assert [b.id for b in changes.moved] == [first.added[0].id]
    assert changes.moved[0].start == NINE + timedelta(hours=3)


def test_a_reassigned_visit_frees_one_technician_and_blocks_the_other() -> None:
    first = reconcile(TENANT, [], [visit()], TECHS, CHICAGO)
    reassigned = visit(emails=("miguel@acme-plumbing.example",))
    changes = reconcile(TENANT, first.added, [reassigned], TECHS, CHICAGO)
    assert [b.technician_id for b in changes.removed] == [ROSA]
    assert [b.technician_id for b in changes.added] == [MIGUEL]


def test_a_gone_visit_loses_its_blocks_and_its_job() -> None:
    first = reconcile(TENANT, [], [visit()], TECHS, CHICAGO)
    changes = reconcile(TENANT, first.added, [], TECHS, CHICAGO, gone=["VISIT-1"])
    assert changes.removed == first.added
    assert changes.forgotten == frozenset({"VISIT-1"})


def test_blocks_of_other_sources_are_never_touched() -> None:
    manual = BusyBlock(uuid.uuid4(), TENANT, ROSA, NINE, NINE + timedelta(hours=1))
    google = attrs.evolve(manual, id=uuid.uuid4(), source="google", external_id="VISIT-1")
    changes = reconcile(TENANT, [manual, google], [], TECHS, CHICAGO)
    assert changes.count == 0


def test_the_poll_window_runs_from_yesterday_to_the_end_of_the_horizon_locally() -> None:
    start, end = poll_window(date(2025, 1, 7), 14, CHICAGO)
    assert start == datetime(2025, 1, 6, tzinfo=CHICAGO)
    assert end == datetime(2025, 1, 22, tzinfo=CHICAGO)


def a_link() -> JobberLink:
    return JobberLink(TENANT, "MQ==", "ACME", "sealed-a", "sealed-r", NINE, NINE)


def test_drift_counts_polls_in_a_row_and_resets_on_a_clean_one() -> None:
    link = a_link()
    for expected in (1, 2, 3):
        link = after_poll(link, NINE, 2)
        assert link.drift_streak == expected
    assert link.drift_last == 2
    link = after_poll(link, NINE, 0)
    assert (link.drift_last, link.drift_streak) == (0, 0)
    assert after_poll(attrs.evolve(link, drift_streak=4), NINE, None).drift_streak == 4


def test_a_failed_sync_records_the_error_but_never_hides_a_reconnect() -> None:
    link = after_sync_failure(a_link(), "Jobber: 500 " + "x" * 400)
    assert link.last_sync_error is not None
    assert len(link.last_sync_error) == 300
    revoked = attrs.evolve(a_link(), last_sync_error=RECONNECT_NEEDED)
    assert after_sync_failure(revoked, "Jobber: 500").needs_reconnect
    assert after_poll(link, NINE, 0).last_sync_error is None


def test_not_configured_reads_as_such() -> None:
    assert str(JobberNotConfigured()) == "Jobber is not configured"


emails = st.sampled_from(
    ["rosa@acme-plumbing.example", "miguel@acme-plumbing.example", "temp@elsewhere.example"]
)
visits = st.builds(
    JobberVisit,
    id=st.sampled_from(["V1", "V2", "V3", "V4"]),
    job_id=st.sampled_from(["J1", "J2", None]),
    start=st.integers(0, 72).map(lambda h: NINE + timedelta(hours=h)),
    end=st.integers(1, 30).map(lambda h: NINE + timedelta(hours=h)),
    all_day=st.booleans(),
    status=st.sampled_from(["UPCOMING", "COMPLETED", "UNSCHEDULED", "LATE"]),
    assignee_emails=st.lists(emails, max_size=3).map(tuple),
)
snapshots = st.lists(visits, max_size=6).map(lambda vs: list({v.id: v for v in vs}.values()))


@settings(max_examples=200, deadline=None)
@given(before=snapshots, after=snapshots)
def test_reconcile_lands_on_jobbers_state_and_is_idempotent(
    before: list[JobberVisit], after: list[JobberVisit]
) -> None:
    manual = BusyBlock(uuid.uuid4(), TENANT, ROSA, NINE, NINE + timedelta(hours=1))
    blocks = apply([manual], reconcile(TENANT, [manual], before, TECHS, CHICAGO))
    blocks = apply(blocks, reconcile(TENANT, blocks, after, TECHS, CHICAGO))

    again = reconcile(TENANT, blocks, after, TECHS, CHICAGO)
    assert again.count == 0  # a second run (a duplicated webhook, the next poll) changes nothing
    assert manual in blocks  # never another source's block
    fresh = apply([], reconcile(TENANT, [], after, TECHS, CHICAGO))
    shape = {(b.technician_id, b.external_id, b.start, b.end) for b in blocks if b != manual}
    assert shape == {(b.technician_id, b.external_id, b.start, b.end) for b in fresh}
    assert {b.technician_id for b in blocks} <= {ROSA, MIGUEL}
