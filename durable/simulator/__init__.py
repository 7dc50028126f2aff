"""Deterministic daily deliveries of Jaffle Shop raw data, with the mess of real life.

See `plan.py` for what a delivery holds, `faults.py` for bad input on demand and `layout.py` for
the landing-zone contract the loader depends on.
"""

from durable.simulator.faults import Fault, FaultKind, Faults, InjectedFault
from durable.simulator.layout import COLUMNS, KEYS, relative_path
from durable.simulator.plan import FIRST_DAY, DeliveryPlan, DeliveryStats, Rates

__all__ = [
    "COLUMNS",
    "FIRST_DAY",
    "KEYS",
    "DeliveryPlan",
    "DeliveryStats",
    "Fault",
    "FaultKind",
    "Faults",
    "InjectedFault",
    "Rates",
    "relative_path",
]
