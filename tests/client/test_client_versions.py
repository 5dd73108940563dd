"""Livy 0.7 / 0.8 / 0.9 differences, against the sandbox's version modes."""

from __future__ import annotations

from typing import Any

import pytest

from livyd import LivyClient, LivyVersion

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("mode", "has_ttl", "has_idle"), [("0.7", False, False), ("0.8", True, False), ("0.9", True, True)]
)
async def test_version_gated_fields_and_order(
    sandbox_factory: Any,
    mode: str,
    has_ttl: bool,
    has_idle: bool,
) -> None:
    sb = sandbox_factory("--livy-version", mode)
    async with LivyClient(sb.livy_url) as c:
        v = await c.server_version()
        assert v >= LivyVersion(0, 7, 0) and f"{v.major}.{v.minor}" == mode
        # older Livy answers 400 to fields it does not know: the client must not send them
        s = await c.create_session(kind="pyspark", ttl="8h", idle_timeout="2h")
        raw = s.model_dump(by_alias=True, exclude_unset=True)
        assert ("ttl" in raw) == has_ttl  # 0.7 sessions have no ttl key at all
        assert ("idleTimeout" in raw) == has_idle
        if mode == "0.9":
            assert s.idle_timeout == "2h"
        await c.run_statement(s.id, "a = 1", timeout=60)
        await c.run_statement(s.id, "b = 2", timeout=60)
        newest = await c.list_statements(s.id, size=1, order="desc")  # emulated on 0.7
        assert [x.id for x in newest.statements] == [1]
        await c.delete_session(s.id)
