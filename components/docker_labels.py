"""Docker labels as the provider wants them: a list of label/value pairs, in a stable order."""

from __future__ import annotations

from typing import Callable, Mapping, TypeVar

LabelArgs = TypeVar("LabelArgs")


def docker_labels(label_args: Callable[..., LabelArgs], labels: Mapping[str, str]) -> list[LabelArgs]:
    return [label_args(label=key, value=value) for key, value in sorted(labels.items())]
