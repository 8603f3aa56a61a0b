"""factory-boy factories for the secure messaging, and small real files to attach. Synthetic data only."""

import datetime as dt
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portail.accounts.enums import UserKind
from portail.accounts.models import User
from portail.messaging.enums import AuthorKind, ThreadStatus, Topic
from portail.messaging.models import Message, Thread
from portail.registry.factories import MemberFactory


def pdf_bytes(text: str = "Attestation de démonstration") -> bytes:
    """A real one-page PDF, drawn with ReportLab."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    drawing.drawString(72, 760, text)
    drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (120, 80)) -> bytes:
    """A real PNG or JPEG image, drawn with Pillow."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buffer, fmt)
    return buffer.getvalue()


def uploaded(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """A file as a form receives it (the browser's content type is never trusted anyway)."""
    return SimpleUploadedFile(name, data, content_type=content_type)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    kind = UserKind.AGENT
    is_staff = True


class ThreadFactory(factory.django.DjangoModelFactory):
    """An open thread with the member's first message (`messages=0` for none)."""

    class Meta:
        model = Thread
        skip_postgeneration_save = True

    member = factory.SubFactory(MemberFactory)
    topic = Topic.REIMBURSEMENT
    subject = factory.Sequence(lambda n: f"Remboursement d'une consultation n° {n}")
    status = ThreadStatus.OPEN
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2))
    last_message_at = factory.SelfAttribute("created_at")
    last_member_message_at = factory.SelfAttribute("created_at")
    member_last_read_at = factory.SelfAttribute("created_at")

    @factory.post_generation
    def messages(thread, create, extracted, **kwargs):
        if not create:
            return
        for _index in range(1 if extracted is None else extracted):
            MessageFactory(thread=thread, created_at=thread.created_at)


class MessageFactory(factory.django.DjangoModelFactory):
    """A member's message (use the services to add an agent's, so that the thread follows)."""

    class Meta:
        model = Message

    thread = factory.SubFactory(ThreadFactory, messages=0)
    author_kind = AuthorKind.MEMBER
    author_user = None
    body = factory.Faker("paragraph", locale="fr_FR")
    created_at = factory.LazyFunction(timezone.now)
