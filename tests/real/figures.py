"""Figures the real tier measures (recovery steps, fault timings, backup speeds): kept for the
session's summary, so that a CI log shows them without `-s` and the docs can quote a run."""
import os

MEASURED: list[str] = []


def measured(*parts: object) -> None:
    """Print the figure (seen with -s) and keep it, under the name of the test that measured it."""
    text = " ".join(str(part) for part in parts)
    print(text)
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0].rsplit("::", 1)[-1]
    MEASURED.append(f"{test}: {text}")
