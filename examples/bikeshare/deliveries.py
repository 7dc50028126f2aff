"""A few days of the fleet system's deliveries, as the landing zone receives them.

Deterministic for a seed, so tests can compare runs: every day a folder `YYYY-MM-DD/` with one
CSV file per table that changed (`stations.csv`, `trips.csv`, `dock_readings.csv`), and the
mess a real source makes, each on a fixed day so a test can find it:

- day 2: a trip delivered twice in its file, a trip of day 1 re-sent unchanged, a trip of day 1
  corrected (docked at another station), a trip with a malformed start time;
- day 3: a trip of day 1 delivered late, a station's capacity raised, a reading of day 2
  corrected, a reading with a malformed count;
- day 4: a reading delivered twice in its file, a line the CSV reader cannot split.

    python examples/bikeshare/deliveries.py data/landing --days 4
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

FIRST_DAY = date(2024, 5, 1)
COLUMNS = {
    "stations": ["station_id", "station_name", "capacity", "updated_at"],
    "trips": [
        "trip_id",
        "bike_id",
        "start_station_id",
        "end_station_id",
        "started_at",
        "ended_at",
        "updated_at",
    ],
    "dock_readings": [
        "station_id",
        "reading_date",
        "bikes_available",
        "docks_disabled",
        "updated_at",
    ],
}
STATIONS = {
    "st-01": ("5th & Main", 12),
    "st-02": ("Harbor Rd & Pier 3", 15),
    "st-03": ("Union Square", 20),
    "st-04": ("Elm St & 2nd", 10),
    "st-05": ("Central Station", 24),
}
TRIPS_A_DAY = 12


@dataclass
class Delivery:
    """One day's files: rows per table, and lines written as they are (unreadable ones)."""

    rows: dict[str, list[list[str]]] = field(default_factory=dict)
    raw_lines: dict[str, list[str]] = field(default_factory=dict)

    def add(self, table: str, row: list[str]) -> None:
        self.rows.setdefault(table, []).append(row)


def stamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


def plan(days: int = 4, seed: int = 7) -> dict[date, Delivery]:
    """Every day's delivery, from FIRST_DAY on."""
    rng = random.Random(seed)
    dates = [FIRST_DAY + timedelta(days=i) for i in range(days)]
    deliveries = {day: Delivery() for day in dates}
    capacity = {station: places for station, (_, places) in STATIONS.items()}
    first = datetime.combine(FIRST_DAY, time(6))
    for station, (name, places) in STATIONS.items():
        deliveries[FIRST_DAY].add("stations", [station, name, str(places), stamp(first)])

    trips: dict[date, list[list[str]]] = {}
    for number, day in enumerate(dates, start=1):
        trips[day] = [_trip(rng, f"t-{number}-{i:02d}", day) for i in range(TRIPS_A_DAY)]
        # Day 1's last trip is delivered late, on day 3.
        on_time = trips[day][:-1] if number == 1 else trips[day]
        for row in on_time:
            deliveries[day].add("trips", row)
        for station in STATIONS:
            disabled = rng.randint(0, 2)
            bikes = rng.randint(0, capacity[station] - disabled)
            closing = datetime.combine(day, time(23, 30))
            deliveries[day].add(
                "dock_readings",
                [station, day.isoformat(), str(bikes), str(disabled), stamp(closing)],
            )

    if days >= 2:
        second, day_two = dates[1], deliveries[dates[1]]
        day_two.add("trips", list(day_two.rows["trips"][3]))  # twice in one file
        day_two.add("trips", list(trips[FIRST_DAY][0]))  # re-sent unchanged
        corrected = list(trips[FIRST_DAY][1])
        corrected[3] = "st-05" if corrected[3] != "st-05" else "st-04"
        corrected[6] = stamp(datetime.combine(second, time(9)))
        day_two.add("trips", corrected)
        day_two.add("trips", ["t-2-bad", "b-999", "st-01", "st-02", "2024-05-02 25:61", "", ""])
    if days >= 3:
        third, day_three = dates[2], deliveries[dates[2]]
        day_three.add("trips", list(trips[FIRST_DAY][-1]))  # late: it happened on day 1
        raised = datetime.combine(third, time(7))
        day_three.add("stations", ["st-03", STATIONS["st-03"][0], "24", stamp(raised)])
        reading = list(deliveries[dates[1]].rows["dock_readings"][1])
        reading[2] = str(int(reading[2]) // 2)
        reading[4] = stamp(datetime.combine(third, time(8)))
        day_three.add("dock_readings", reading)
        day_three.add(
            "dock_readings",
            ["st-04", (third - timedelta(days=1)).isoformat(), "n/a", "0", stamp(raised)],
        )
    if days >= 4:
        day_four = deliveries[dates[3]]
        day_four.add("dock_readings", list(day_four.rows["dock_readings"][0]))
        day_four.raw_lines["trips"] = ["t-4-bad,b-998,st-01,st-02,2024-05-04 10:00:00,x,y,z"]
    return deliveries


def _trip(rng: random.Random, trip_id: str, day: date) -> list[str]:
    start, end = rng.choice(list(STATIONS)), rng.choice(list(STATIONS))
    started = datetime.combine(day, time(6)) + timedelta(minutes=rng.randint(0, 15 * 60))
    ended = started + timedelta(minutes=rng.randint(3, 45))
    bike = f"b-{rng.randint(100, 140)}"
    return [trip_id, bike, start, end, stamp(started), stamp(ended), stamp(ended)]


def land(
    landing: Path,
    days: int = 4,
    seed: int = 7,
    only: date | None = None,
    through: date | None = None,
) -> list[date]:
    """Write the deliveries (one day with `only`, up to a day with `through`); their dates."""
    written = []
    for day, delivery in plan(days, seed).items():
        if (only and day != only) or (through and day > through):
            continue
        folder = landing / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for table in COLUMNS:
            if table not in delivery.rows and table not in delivery.raw_lines:
                continue
            with (folder / f"{table}.csv").open("w", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(COLUMNS[table])
                writer.writerows(delivery.rows.get(table, []))
                handle.writelines(line + "\n" for line in delivery.raw_lines.get(table, []))
        written.append(day)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path, help="the landing zone to write into")
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    for day in land(arguments.landing, arguments.days, arguments.seed):
        print(f"landed {day}")


if __name__ == "__main__":
    main()
