"""Due days become windows: consecutive days build together, a gap or the batch size ends one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from durable.config import Settings
from durable.errors import BadInput
from durable.windows import batched, days_of

FIRST = date(2018, 9, 1)


def test_an_outage_of_a_week_and_a_late_file_make_two_windows() -> None:
    outage = [FIRST + timedelta(days=n) for n in range(10, 17)]
    late = FIRST + timedelta(days=2)
    assert batched([*outage, late], most=31) == [(late, late), (outage[0], outage[-1])]
    assert batched(outage, most=3) == [
        (outage[0], outage[2]),
        (outage[3], outage[5]),
        (outage[6], outage[6]),
    ]


@given(
    offsets=st.sets(st.integers(min_value=0, max_value=90), max_size=40),
    most=st.integers(min_value=1, max_value=10),
)
def test_windows_cover_exactly_the_due_days_in_order(offsets: set[int], most: int) -> None:
    days = [FIRST + timedelta(days=n) for n in offsets]
    windows = batched(days, most)
    assert days_of(windows) == sorted(days), "every due day once, oldest first, no other day"
    assert all((end - start).days < most for start, end in windows)
    for (start, end), (following, _) in zip(windows, windows[1:], strict=False):
        # A window ends only at a gap or when it is full.
        assert following > end + timedelta(days=1) or (end - start).days + 1 == most


@pytest.mark.parametrize("value", ["0", "-2", "a week", "1.5"])
def test_a_batch_size_that_is_not_a_positive_whole_number_is_bad_input(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DURABLE_BATCH_DAYS", value)
    with pytest.raises(BadInput, match="DURABLE_BATCH_DAYS"):
        Settings()
