"""Sans-IO core of livyd: pure functions and small state machines, no network, no clock.

Nothing here imports httpx, anyio or structlog, and nothing reads the clock: time is always an
argument. That is what lets ``tests/core`` drive every decision synchronously and exactly:

- :mod:`.poll`       when to poll next (fast start, exponential back-off, fast again on progress)
- :mod:`.logcursor`  following Livy's /log through its 200-line ring buffers
- :mod:`.versions`   ``0.9.0-incubating`` parsed and compared numerically; feature gates
- :mod:`.errors`     an HTTP error response (any body shape) to the right exception
- :mod:`.matching`   did an ambiguous statement POST land? (code matching after a known id)
- :mod:`.backoff`    bounded exponential retry delays with injected randomness
- :mod:`.urls`       base URL normalisation, relative ``Location`` headers, path building
- :mod:`.redact`     masking credentials in text and structures (errors and logs)
"""

from __future__ import annotations
