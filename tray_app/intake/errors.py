class QuarantineError(Exception):
    """The file cannot be used; the message is shown to front-desk staff as the reason."""


class RetryLater(Exception):
    """A passing condition (file locked by the imaging software or antivirus, share down)."""
