"""The one dispatch of a state machine's Lambda task: the ASL names the task in its payload
(``{"task": "rate_page", "input.$": "$", "execution.$": "$$.Execution.Name"}``) and each workflow's
function maps task names to use cases. An unknown name is a deployment error, raised to the state machine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Task = Callable[[dict[str, Any]], Any]


class UnknownTask(Exception):
    pass


def run_task(tasks: Mapping[str, Task], event: dict[str, Any]) -> Any:
    task = tasks.get(event.get("task", ""))
    if task is None:
        raise UnknownTask(f"unknown task {event.get('task')!r}; known: {sorted(tasks)}")
    return task(event)
