"""String enums for servers that may send values livyd does not know yet (sans-IO).

Livy adds session and statement states between versions, and Spark adds job and stage statuses:
an unknown value becomes a pseudo-member instead of failing the whole response. Known values
match whatever their case; :meth:`TolerantEnum._fold` says how the server spells them (Livy in
lower case, Spark's REST API in upper case).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["TolerantEnum", "UpperTolerantEnum"]


class TolerantEnum(StrEnum):
    """A string enum that turns unknown values into pseudo-members instead of failing."""

    @staticmethod
    def _fold(value: str) -> str:
        return value.lower()

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            folded = cls._fold(value)
            for member in cls:
                if member.value == folded:
                    return member
            pseudo = str.__new__(cls, value)
            pseudo._name_ = value.upper()
            pseudo._value_ = value
            return pseudo
        return None

    @property
    def is_known(self) -> bool:
        """False for a value this version of livyd does not know."""
        return self.value in type(self)._value2member_map_

    def __str__(self) -> str:
        return str(self.value)


class UpperTolerantEnum(TolerantEnum):
    """:class:`TolerantEnum` for a server that spells its values in upper case."""

    @staticmethod
    def _fold(value: str) -> str:
        return value.upper()
