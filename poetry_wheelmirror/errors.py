"""One small exception hierarchy; only the CLI layer turns these into exit codes.

Every ``wheelmirror`` command exits with the same statuses (:data:`EXIT_CODES`, printed
by ``wheelmirror --help`` and listed in docs/troubleshooting.md).
"""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "INTERNAL_ERROR_EXIT",
    "BuildError",
    "ConfigError",
    "FetchError",
    "HashMismatchError",
    "ManifestError",
    "NoCompatibleWheelError",
    "ProvenanceError",
    "PublishError",
    "RecipeError",
    "WheelmirrorError",
]


class WheelmirrorError(Exception):
    """Base of every error this project raises on purpose; the message is one line.

    Credentials in any URL the message names (``https://user:token@host/``) are replaced
    by ``***`` here, once for every error, log line and warning built from one."""

    exit_code = 1

    def __init__(self, *args: object) -> None:
        from poetry_wheelmirror.urls import redact_text

        super().__init__(*(redact_text(a) if isinstance(a, str) else a for a in args))


class ManifestError(WheelmirrorError):
    """A manifest document is malformed, of another schema, or inconsistent."""

    exit_code = 3

    def __init__(
        self, message: str, *, field: str | None = None, source: str | None = None
    ) -> None:
        self.field = field
        self.source = source
        where = f"{source}: " if source else ""
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{message}")


class FetchError(WheelmirrorError):
    """A document or file could not be fetched (network, HTTP status, refused scheme)."""

    exit_code = 4


class HashMismatchError(WheelmirrorError):
    """Bytes did not match the sha256 that names them."""

    exit_code = 5


class NoCompatibleWheelError(WheelmirrorError):
    """No wheel fits the requested interpreter and platform."""

    exit_code = 6


class ConfigError(WheelmirrorError):
    """A setting (CLI flag, environment variable, config file) is invalid."""

    exit_code = 2


class RecipeError(WheelmirrorError):
    """A build recipe is malformed."""

    exit_code = 3


class BuildError(WheelmirrorError):
    """A wheel build failed; the mirror is left as it was.

    *log_path* names the full build log and *log_tail* holds its last lines, so the CLI
    can show them while the message itself stays one line.
    """

    exit_code = 7

    def __init__(
        self, message: str, *, log_path: str | None = None, log_tail: tuple[str, ...] = ()
    ) -> None:
        self.log_path = log_path
        self.log_tail = log_tail
        super().__init__(message)


class PublishError(WheelmirrorError):
    """Publishing would overwrite or conflict with an existing file, or the upload failed."""

    exit_code = 8


class ProvenanceError(WheelmirrorError):
    """A wheel's provenance attestation is missing, malformed, or does not verify."""

    exit_code = 9


#: Exit status of an unexpected exception (a bug): sysexits' EX_SOFTWARE.
INTERNAL_ERROR_EXIT = 70

#: Every exit status a ``wheelmirror`` command uses, and what it means.
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "success"),
    (1, "a check or verification found problems; a file could not be read or written"),
    (ConfigError.exit_code, "usage or configuration error: a bad option, value or setting"),
    (ManifestError.exit_code, "a manifest, package document or recipe is malformed"),
    (FetchError.exit_code, "network error: not reachable, HTTP error, timeout, TLS"),
    (HashMismatchError.exit_code, "downloaded bytes do not match their sha256"),
    (NoCompatibleWheelError.exit_code, "no mirror wheel fits the interpreter and platform"),
    (BuildError.exit_code, "a wheel build failed (the mirror is left as it was)"),
    (PublishError.exit_code, "publishing would overwrite a file, or an upload failed"),
    (ProvenanceError.exit_code, "a provenance attestation is missing or does not verify"),
    (INTERNAL_ERROR_EXIT, "internal error (a bug: please report it)"),
    (130, "interrupted (Ctrl-C)"),
)
