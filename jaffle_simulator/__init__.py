"""Deterministic daily deliveries of Jaffle Shop raw data, with the mess of real life.

The reference project's own test fixture and demo source (not part of the `durable` runner). See
`plan.py` for what a delivery holds, `faults.py` for bad input on demand and `layout.py` for the
landing-zone contract its source YAML declares.
"""

from jaffle_simulator.faults import Fault, FaultKind, Faults, InjectedFault
from jaffle_simulator.layout import COLUMNS, KEYS, relative_path
from jaffle_simulator.plan import FIRST_DAY, DeliveryPlan, DeliveryStats, Rates

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
