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


class EngineError(RagError):
    """A remote model engine (an OpenAI-compatible server) failed; the message names it and the cause."""

    exit_code = 6


class EngineUnreachable(EngineError):
    """Connection refused, name not resolved, or the connection broke."""


class EngineTimeout(EngineError):
    """The engine did not answer within the engine timeout."""


class EngineFailed(EngineError):
    """The engine answered with an error status (5xx, or a 4xx such as a refused key)."""


class EngineBadResponse(EngineError):
    """The engine's answer is not what the OpenAI API describes (not JSON, fields missing or of the wrong type)."""


class Busy(RagError):
    """Too many questions are already waiting for the generator."""

    exit_code = 7


class TooSlow(RagError):
    """A question waited and ran longer than the request timeout."""

    exit_code = 7


class NotFound(RagError):
    """A document or a collection that the index does not hold."""

    exit_code = 8
