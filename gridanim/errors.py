"""The package's error vocabulary.

Every error a user can cause or fix is a :class:`GridanimError`; its message is
one line that says what is wrong and what to do. The CLI turns these into
``error: <message>`` on stderr with exit code 2 (``cli.py``); the app turns them
into ``gr.Error`` (``app.py``). Anything else is a bug.

::

    GridanimError
    ├── InputError          bad image or bad argument (not an image, 1x1, rows <= 0, ...)
    ├── LayoutError         the grid could not be cut as asked
    ├── EncodeError         an encoder failed (ffmpeg missing or crashed)
    ├── PresetError         a preset file is malformed or unknown
    ├── StorageError        the data directory cannot be written
    ├── LimitError          a host quota or the daily budget refuses the request
    └── GenerationError     the image model call failed or cannot be made
        ├── MissingKeyError       no API key anywhere
        ├── ModelUnavailableError the model is shut down / unknown
        ├── SafetyError           moderation_blocked
        ├── AuthError             401 / 403
        ├── RateLimitError        429 (rate limit or no credit)
        ├── BadRequestError       400 other than safety (size, params)
        ├── ServerError           5xx
        └── ConnectionFailed      timeout or no connection
"""

from __future__ import annotations


class GridanimError(Exception):
    """Base class: the message is shown to the user as one line."""

    def __str__(self) -> str:  # keep messages to one line whatever was passed
        return " ".join(super().__str__().split())


class InputError(GridanimError):
    """The image or an argument is unusable."""


class OptionError(InputError):
    """An option the animation cannot use. ``template`` holds ``{name}`` where the option's name goes, so the
    CLI says ``--smooth`` and the app says "Smoothing" (:meth:`worded`); ``str()`` uses the field name."""

    def __init__(self, field: str, template: str) -> None:
        self.field, self.template = field, template
        super().__init__(template.replace("{name}", field))

    def worded(self, names) -> str:
        """The message with the option called what ``names`` (field -> name) calls it."""
        return " ".join(self.template.replace("{name}", names.get(self.field, self.field)).split())


class LayoutError(GridanimError):
    """The grid could not be cut as asked."""


class EncodeError(GridanimError):
    """Writing an animation failed."""


class PresetError(GridanimError):
    """A style preset file is malformed or unknown."""


class StorageError(GridanimError):
    """The data directory could not be read or written."""


class LimitError(GridanimError):
    """A host-side quota or budget refuses the request (no request was sent)."""


class GenerationError(GridanimError):
    """The image model call failed or cannot be made."""


class MissingKeyError(GenerationError):
    pass


class ModelUnavailableError(GenerationError):
    pass


class SafetyError(GenerationError):
    pass


class AuthError(GenerationError):
    pass


class RateLimitError(GenerationError):
    pass


class BadRequestError(GenerationError):
    pass


class ServerError(GenerationError):
    pass


class ConnectionFailed(GenerationError):
    pass
