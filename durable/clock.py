"""The runner's clock: the system's, or DURABLE_NOW when set.

Whether a delivery is overdue (durable/overdue.py) or dated in the future (durable/landing/zone.py)
depends on the time. DURABLE_NOW pins it (an ISO 8601 timestamp; UTC unless it names another
offset), for tests and for replaying a past delivery history as if it were happening now.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from durable.errors import BadInput


def now() -> datetime:
    """The current time, aware, in UTC."""
    pinned = os.environ.get("DURABLE_NOW")
    if not pinned:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(pinned)
    except ValueError:
        raise BadInput(
            f"invalid DURABLE_NOW={pinned!r}: expected a timestamp as 2018-09-05T06:00:00Z"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
