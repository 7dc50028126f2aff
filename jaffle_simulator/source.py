"""Deterministic jafgen: the raw Jaffle Shop tables the simulator cuts into deliveries.

jafgen draws from the global `random` and `numpy.random` generators, from `uuid.uuid4()` and from a
Faker instance seeded once at import. To make a run reproducible in-process we seed all of them,
route `uuid.uuid4` through a seeded `random.Random`, and restore every global afterwards so callers
never see their random state changed. The result is cached on disk by (seed, days): jafgen is the
slow part (about 3 s for 90 days) and its output never changes for a given key.
"""

from __future__ import annotations

import contextlib
import csv
import os
import random
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import faker.generator
import numpy as np
from faker import Faker
from jafgen import simulation

ENTITIES: tuple[str, ...] = ("customers", "orders", "items", "products", "stores", "supplies")
DEFAULT_CACHE_DIR = Path("data/cache/jafgen")

RawTables = dict[str, list[dict[str, str]]]


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    """jafgen writes to ./jaffle-data: confine the working-directory change to this block."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed every source of randomness jafgen uses, and silence its progress bars."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    faker_state = faker.generator.random.getstate()
    real_uuid4 = uuid.uuid4
    real_track = simulation.track
    uuid_rng = random.Random(f"jafgen-uuid:{seed}")

    def seeded_uuid4() -> uuid.UUID:
        return uuid.UUID(int=uuid_rng.getrandbits(128), version=4)

    random.seed(seed)
    np.random.seed(seed % 2**32)
    Faker.seed(seed)
    uuid.uuid4 = seeded_uuid4
    simulation.track = lambda sequence, **_: sequence  # type: ignore[assignment]
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        faker.generator.random.setstate(faker_state)
        uuid.uuid4 = real_uuid4
        simulation.track = real_track  # type: ignore[assignment]


def cache_path(seed: int, days: int, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Where the raw CSVs of one (seed, days) run live."""
    return Path(cache_dir) / f"seed={seed}-days={days}"


def generate(seed: int, days: int, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Run jafgen for `days` days from 2018-09-01 unless the cache already holds that run.

    The run is written to a scratch directory and renamed into place, so an interrupted run never
    leaves a half-written cache entry behind.
    """
    target = cache_path(seed, days, cache_dir)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.parent / f".tmp-{target.name}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        with _seeded(seed), _chdir(scratch):
            sim = simulation.Simulation(years=1, prefix="raw")
            sim.sim_days = days
            sim.run_simulation()
            sim.save_results()
        (scratch / "jaffle-data" / "raw_tweets.csv").unlink(missing_ok=True)
        with contextlib.suppress(FileExistsError, OSError):
            os.rename(scratch / "jaffle-data", target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def load(seed: int, days: int, cache_dir: Path = DEFAULT_CACHE_DIR) -> RawTables:
    """The six raw tables of a (seed, days) run as lists of string dicts, in jafgen's row order."""
    directory = generate(seed, days, cache_dir)
    tables: RawTables = {}
    for entity in ENTITIES:
        with open(directory / f"raw_{entity}.csv", newline="", encoding="utf-8") as handle:
            tables[entity] = list(csv.DictReader(handle))
    return tables
