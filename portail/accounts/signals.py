from django.dispatch import receiver

from portail.accounts.enums import SecurityEventKind
from portail.accounts.security import security_event_record
from portail.post.signals import letters_posted


@receiver(letters_posted)
def record_letters_posted(sender, letters, **kwargs):
    for letter in letters:
        security_event_record(
            kind=SecurityEventKind.LETTER_POSTED,
            member=letter.member,
            detail=f"courrier n° {letter.pk} : {letter.get_kind_display()}",
        )
