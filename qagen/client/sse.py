"""Server-Sent Events, read with a ~20-line parser rather than a library.

The API sends only `event:`, `data:`, `id:` and `retry:` lines and comments, so a library
would add a dependency to the client (and the API image, which installs this package too)
for little.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a Server-Sent Events stream (WHATWG rules; `id:`/`retry:` ignored)."""
    event, data = "", []
    for line in lines:
        if not line:  # a blank line dispatches the event
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):  # a comment (heartbeat)
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
