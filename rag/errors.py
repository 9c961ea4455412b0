"""Domain errors: each carries a one-line message meant for the user."""


class RagError(Exception):
    """Base class; the CLI prints the message and exits non-zero, the UI shows it."""

    exit_code = 1


class BadQuestion(RagError):
    """The question is empty, too long or has no readable text."""

    exit_code = 2


class BadSettings(RagError):
    """A setting has an invalid value."""

    exit_code = 2


class ModelMissing(RagError):
    """A model file or folder is not where the settings say."""

    exit_code = 3


class MissingDependency(RagError):
    """An optional package is not installed."""

    exit_code = 3


class EngineCrashed(RagError):
    """The model engine died (an illegal instruction, a crash, out of memory) or could not run."""

    exit_code = 6


class UnreadableDocument(RagError):
    """A file cannot be read as text (binary, unknown encoding, too large, gone)."""

    exit_code = 4


class IndexProblem(RagError):
    """The index is missing, corrupt, locked or built with other settings."""

    exit_code = 5
