"""Every error the harness raises on purpose, importable from one place.

::

    ConformanceError                 base: one-line message + diagnostics()
    ├── UsageError                   bad flags or flag combinations (also ValueError)
    ├── SpecError                    an OpenAPI document cannot be read or resolved (also ValueError)
    ├── ProfileError                 a profile is malformed or refers to unknown things (also ValueError)
    ├── DataDictionaryError          a customer-supplied POLE data dictionary cannot be read (also ValueError)
    ├── TargetError                  a live target is misconfigured or unusable
    ├── VerificationError            a signed report does not verify
    ├── ReportError                  a report cannot be written or read back
    └── CheckDefinitionError         a check is declared wrongly (a programming error; also TypeError)

A user mistake is always one of these, and the CLI prints ``str(error)`` as a single line and exits 2;
the traceback is shown only with ``-v``.
"""

from __future__ import annotations

__all__ = [
    "CheckDefinitionError",
    "ConformanceError",
    "DataDictionaryError",
    "ProfileError",
    "ReportError",
    "SpecError",
    "TargetError",
    "UsageError",
    "VerificationError",
]


class ConformanceError(Exception):
    """Base class: carries where the problem is, what is wrong and how to fix it.

    ``str(error)`` is the single line the CLI prints: ``<source>:<location>: <message> (<hint>)``.
    """

    exit_code = 2  # usage or input error (see conformance.verdict.ExitCode)

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        location: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.location = location
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.source:
            where = self.source
            if self.location:
                where += f":{self.location}"
            where += ": "
        elif self.location:
            where = f"{self.location}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split("\n"))

    def diagnostics(self) -> str:
        """A longer, human explanation; by default the one-line message."""
        return self.one_line()


class UsageError(ConformanceError, ValueError):
    """A command-line flag, or a combination of flags, is wrong."""


class SpecError(ConformanceError, ValueError):
    """An OpenAPI document cannot be read, parsed or resolved."""


class ProfileError(ConformanceError, ValueError):
    """A profile file is malformed, invalid against its schema, or names unknown checks/parameters."""


class DataDictionaryError(ConformanceError, ValueError):
    """A POLE data dictionary file (CSV or JSON, ``docs/pole.md``) is missing, malformed or inconsistent;
    the message names the file and the row."""


class TargetError(ConformanceError):
    """A live target cannot be used as configured."""


class VerificationError(ConformanceError):
    """A signed report, envelope or key does not verify."""

    exit_code = 1  # verification failed


class ReportError(ConformanceError):
    """A report cannot be written, or a report on disk is not one of ours."""


class CheckDefinitionError(ConformanceError, TypeError):
    """A check is registered with a bad id, signature or parameter set (a bug in check code)."""
