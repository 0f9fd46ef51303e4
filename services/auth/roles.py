"""Role order: a limit only ever lowers a role."""

from collections.abc import Iterable

RANK = {"viewer": 0, "author": 1, "admin": 2}


def capped(role: str, limits: Iterable[str]) -> str:
    """The lowest of the role and every limit on it."""
    return min([role, *limits], key=RANK.__getitem__)


def above(role: str) -> list[str]:
    return [other for other, rank in RANK.items() if rank > RANK[role]]
