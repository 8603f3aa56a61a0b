"""E-mail backends of our own."""

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class DemoLetterboxBackend(BaseEmailBackend):
    """Demo mode: nothing leaves the machine.

    Every e-mail the portal sends is an `Email` row saved before sending, and the
    demo letterbox (/demo/boite-aux-lettres/) shows those rows; this backend only
    checks that each message could be built, logs it, and reports it delivered.
    """

    def __init__(self, *, alias=None, **kwargs):
        super().__init__(alias=alias, **kwargs)

    def send_messages(self, email_messages):
        count = 0
        for message in email_messages:
            message.message()  # builds the MIME message: the same header checks as a real backend
            logger.info("Demo letterbox: e-mail to %s kept, not sent.", ", ".join(message.recipients()))
            count += 1
        return count
