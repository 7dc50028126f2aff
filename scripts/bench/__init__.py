"""The benchmark behind `scripts/benchmark.py` (`make bench`), one concern a module.

- `history`: the simulated history, landed and loaded once and cached; the only module that
  knows the simulator.
- `warehouse`: the database files the steps run on: settings, copies, the page cache.
- `steps`: what each measured process does (`benchmark.py step ...`).
- `measure`: runs a step in a fresh process and takes its time and peak memory.
- `run`: the whole benchmark: the headline history, repeated, then the history growth.
- `machine`: what the page says about the machine and the warehouse's filesystem.
- `summary`: medians, ratios against their targets, the console table.
- `tables`, `findings`, `chart`: the generated parts of docs/BENCHMARKS.md and its chart.
- `report`: writes those parts into the page between its markers, keeping the prose around them.
"""
