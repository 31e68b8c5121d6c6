"""One family of errors. Messages are written for the person who has to act on them."""


class QagenError(Exception):
    """Base of every error qagen raises on purpose."""


class InputError(QagenError):
    """Raised when an uploaded paper cannot be processed as it is (the user must fix the file).

    A session that fails with one of these shows its message to the user verbatim.
    """


class UnsupportedFileType(InputError):
    """Raised when a file's content is not a type qagen reads (judged by bytes, not the name)."""


class EmptyFile(InputError):
    """Raised when a file has no bytes."""


class NoQuestionsFound(InputError):
    """Raised when a paper was read but no numbered questions could be found in it."""


class TransientError(QagenError):
    """Raised when an outside service (S3, Redis, the model) failed in a way worth retrying."""


class NotFound(QagenError):
    """Raised when a stored object or record does not exist."""


class SessionNotFound(NotFound):
    """Raised when no session has the given id."""


class ModelError(QagenError):
    """Raised when the model refuses requests for a reason retrying will not fix
    (a wrong API key, an unknown model name, a request it cannot accept).

    The message names the model and what to change; the session fails with it.
    """
