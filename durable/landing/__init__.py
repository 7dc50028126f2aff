"""The landing zone and its files, the same for every engine.

What a run finds in the landing zone (`zone`, by the patterns of `pattern`), how one delivered
file is checked and read (`delivery`, in DuckDB, the one reader every engine trusts), how a
composed identifier is quoted (`quoting`) and what a load did with each file (`accounting`). The
engines (durable/engines/) call these; nothing here imports an engine, so a check is written once
and holds everywhere.
"""
