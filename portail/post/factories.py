"""factory-boy factories for letters and e-mails, for every app's tests."""

import datetime

import factory

from portail.post.enums import EmailKind, EmailStatus, LetterKind, LetterStatus
from portail.post.models import Email, Letter
from portail.registry.factories import MemberFactory


class LetterFactory(factory.django.DjangoModelFactory):
    """A queued provisional-code letter (render it with `letter_render`)."""

    class Meta:
        model = Letter

    member = factory.SubFactory(MemberFactory)
    kind = LetterKind.PROVISIONAL_CODE
    status = LetterStatus.QUEUED
    recipient_name = factory.LazyAttribute(
        lambda letter: f"Madame {letter.member.first_names} {letter.member.last_name.upper()}"
    )
    recipient_address_line1 = factory.SelfAttribute("member.address_line1")
    recipient_address_line2 = factory.SelfAttribute("member.address_line2")
    recipient_postal_code = factory.SelfAttribute("member.postal_code")
    recipient_city = factory.SelfAttribute("member.city")
    context = factory.LazyFunction(
        lambda: {
            "issued_at": datetime.date(2025, 3, 5).isoformat(),
            "expires_at": datetime.date(2025, 3, 20).isoformat(),
        }
    )
    secret_context = factory.LazyFunction(lambda: {"code": "48210937"})


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Email

    to = factory.Sequence(lambda n: f"assure{n}@example.org")
    subject = "Confirmez votre adresse e-mail"
    body = "Bonjour,\n\nPour confirmer votre adresse, ouvrez ce lien : https://portail.example/confirmer/abc/\n"
    kind = EmailKind.EMAIL_CONFIRMATION
    status = EmailStatus.QUEUED
