"""The GraphQL documents the Jobber client sends, and visits read back from Jobber's JSON.

Each document is named (`operationName`): Jobber logs them by name, and the local fake
answers by it. Connections always say `first`, so each query's cost is bounded (Jobber
assumes 100 nodes where `first` is missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from nmc_domain.scheduling.jobber import JobberVisit
from nmc_domain.scheduling.jobber_ports import JobberProviderError, VisitsPage

__all__ = [
    "ACCOUNT",
    "DISCONNECT",
    "JOB_VISITS",
    "PAGE_SIZE",
    "VISIT",
    "VISITS_BETWEEN",
    "page_of",
    "visit_of",
]

PAGE_SIZE: Final = 50
_VISIT_FIELDS: Final = (
    "id startAt endAt allDay visitStatus job { id } "
    "assignedUsers(first: 20) { nodes { id email { raw } } }"
)
_PAGE: Final = f"nodes {{ {_VISIT_FIELDS} }} pageInfo {{ hasNextPage endCursor }}"

ACCOUNT: Final = ("Account", "query Account { account { id name } }")
VISIT: Final = (
    "Visit",
    f"query Visit($id: EncodedId!) {{ visit(id: $id) {{ {_VISIT_FIELDS} }} }}",
)
JOB_VISITS: Final = (
    "JobVisits",
    "query JobVisits($id: EncodedId!, $first: Int!, $after: String) "
    f"{{ job(id: $id) {{ id visits(first: $first, after: $after) {{ {_PAGE} }} }} }}",
)
VISITS_BETWEEN: Final = (
    "VisitsBetween",
    "query VisitsBetween($first: Int!, $after: String, $filter: VisitFilterAttributes) "
    f"{{ visits(first: $first, after: $after, filter: $filter) {{ {_PAGE} }} }}",
)
DISCONNECT: Final = (
    "Disconnect",
    "mutation Disconnect { appDisconnect { app { id } userErrors { message } } }",
)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("a time without its UTC offset")
    return moment


def visit_of(node: Mapping[str, Any]) -> JobberVisit:
    """A visit node as our value; JobberProviderError when it is not one we can read."""
    try:
        users = ((node.get("assignedUsers") or {}).get("nodes")) or []
        emails = tuple(
            str(raw) for user in users if (raw := ((user or {}).get("email") or {}).get("raw"))
        )
        job = node.get("job") or {}
        return JobberVisit(
            id=str(node["id"]),
            job_id=None if job.get("id") is None else str(job["id"]),
            start=_moment(node.get("startAt")),
            end=_moment(node.get("endAt")),
            all_day=bool(node.get("allDay")),
            status=str(node.get("visitStatus") or ""),
            assignee_emails=emails,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise JobberProviderError(f"unreadable visit in Jobber's answer: {exc}") from None


def page_of(connection: Mapping[str, Any] | None) -> VisitsPage:
    """A `visits` connection as a page; the cursor only while Jobber says there are more."""
    if not isinstance(connection, Mapping):
        raise JobberProviderError("Jobber's answer has no visits connection")
    nodes = connection.get("nodes")
    info = connection.get("pageInfo") or {}
    if not isinstance(nodes, list) or not isinstance(info, Mapping):
        raise JobberProviderError("Jobber's visits connection is not one we can read")
    cursor = info.get("endCursor") if info.get("hasNextPage") else None
    return VisitsPage(
        tuple(visit_of(node) for node in nodes), None if cursor is None else str(cursor)
    )
