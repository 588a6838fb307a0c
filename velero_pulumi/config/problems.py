"""Collecting configuration problems and reporting them together."""

from __future__ import annotations

from typing import Any

import pulumi


class ConfigError(pulumi.RunError):
    """Invalid configuration. A RunError, so the CLI prints the message without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"invalid configuration ({len(problems)} problem(s)); nothing was changed:\n{listed}"
        )


class Problems:
    """Every problem found while reading the configuration, so one run reports all of them."""

    def __init__(self) -> None:
        self._items: list[str] = []

    def add(self, key: str, value: Any, expected: str) -> None:
        self._items.append(f"{key} = {value!r}: expected {expected}")

    def unknown(self, key: str, value: Any, known: list[str]) -> None:
        self._items.append(f"{key} = {value!r}: no such key (known: {', '.join(known)})")

    def __len__(self) -> int:
        return len(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise ConfigError(self._items)
