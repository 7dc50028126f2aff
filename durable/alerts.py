"""The alert hook: on failure, a configured command receives the failure as JSON on stdin.

Teams plug in Slack, email or PagerDuty with a one-line script; the runner never depends on one.
A broken hook is reported but never masks the failure it was reporting.
"""

from __future__ import annotations

import json
import subprocess

from rich.console import Console

err = Console(stderr=True, soft_wrap=True)  # one line per message, whatever the width


def send_alert(command: str, payload: dict[str, object]) -> None:
    if not command:
        return
    try:
        subprocess.run(
            command,
            shell=True,
            input=json.dumps(payload, default=str) + "\n",  # one JSON document a line
            text=True,
            timeout=60,
            check=True,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError) as error:
        err.print(f"[yellow]alert hook failed[/yellow] ({command}): {error}")
