"""Errors that end a command with one clear line and a documented exit code."""

EXIT_OK = 0
EXIT_LEAK_FOUND = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 3  # a bug in leakhunt: one line, the traceback saved to a file
EXIT_INTERRUPTED = 130


class LeakhuntError(Exception):
    """Base class: the CLI prints `str(error)` on one line and exits with `exit_code`."""

    exit_code = EXIT_BAD_INPUT


class BadInputError(LeakhuntError):
    """The user gave something we cannot use (path, option value, model file, workload)."""

    exit_code = EXIT_BAD_INPUT


class WorkloadError(BadInputError):
    """A custom workload cannot be imported, lacks FUNC, or returns no callable."""


class ModelFileError(BadInputError):
    """A model file (.pb or SavedModel) is missing, corrupt, or lacks the OD API interface."""


class NotARunFolderError(BadInputError):
    """`leakhunt report` was pointed at a folder that holds no leakhunt run."""
