"""Where attachments are filed: a private directory under the portal's var/ directory.

Never under MEDIA_ROOT nor STATIC_ROOT, never served by URL: a file is only sent back by a view that
first looks it up among the requesting member's (or agent's) own attachments. The directory comes
from settings at each use (`PORTAIL_ATTACHMENTS_DIR`, by default `VAR_DIR / "attachments"`), so that
tests and deployments can move it.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils import timezone


def attachments_dir() -> Path:
    return Path(getattr(settings, "PORTAIL_ATTACHMENTS_DIR", None) or Path(settings.VAR_DIR) / "attachments")


class AttachmentStorage(FileSystemStorage):
    """A FileSystemStorage whose location is read from settings every time; files 0600, directories 0700."""

    def __init__(self):
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property
    def base_location(self):
        return str(attachments_dir())

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise NotImplementedError("Attachments are never served by URL: use the download views.")


def attachment_storage() -> AttachmentStorage:
    """The FileField's storage (a callable, so that migrations do not record a path)."""
    return AttachmentStorage()


def attachment_upload_to(instance, filename: str) -> str:
    """A random name under the month's directory: the member's file name never reaches the disk."""
    extension = Path(filename).suffix.lower()
    return f"{timezone.localtime():%Y/%m}/{uuid.uuid4().hex}{extension}"
