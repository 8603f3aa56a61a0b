"""The demo letterbox: in demo mode, every letter and e-mail the portal "sent", on one page."""

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from portail.forms import PortailForm
from portail.post.enums import LetterStatus
from portail.post.models import Email, Letter

# The newest entries of each sort shown at most, so that the page stays fast after a long demo.
LETTERBOX_LIMIT = 200


class LetterboxFilterForm(PortailForm):
    recipient = forms.CharField(
        label=_("Nom du destinataire"),
        help_text=_("Tout ou partie du nom, du prénom ou de l'adresse e-mail."),
        max_length=100,
        required=False,
    )


@dataclass(frozen=True)
class LetterboxEntry:
    """A letter or an e-mail, as the letterbox lists them."""

    created_at: datetime
    letter: Letter | None = None
    email: Email | None = None


def _demo_mode_only() -> None:
    if not settings.PORTAIL_DEMO:
        raise Http404


@login_not_required
@require_safe
def letterbox(request):
    _demo_mode_only()
    form = LetterboxFilterForm(request.GET or None)
    letters = Letter.objects.order_by("-created_at", "-pk")
    emails = Email.objects.select_related("member").order_by("-created_at", "-pk")
    recipient = form.cleaned_data["recipient"].strip() if form.is_valid() else ""
    if recipient:
        letters = letters.filter(recipient_name__icontains=recipient)
        emails = emails.filter(
            Q(to__icontains=recipient)
            | Q(member__last_name__icontains=recipient)
            | Q(member__first_names__icontains=recipient)
        )
    letters = list(letters[: LETTERBOX_LIMIT + 1])
    emails = list(emails[: LETTERBOX_LIMIT + 1])
    truncated = len(letters) > LETTERBOX_LIMIT or len(emails) > LETTERBOX_LIMIT
    entries = [LetterboxEntry(created_at=letter.created_at, letter=letter) for letter in letters[:LETTERBOX_LIMIT]]
    entries += [LetterboxEntry(created_at=email.created_at, email=email) for email in emails[:LETTERBOX_LIMIT]]
    entries.sort(key=lambda entry: entry.created_at, reverse=True)
    context = {
        "form": form,
        "recipient": recipient,
        "entries": entries,
        "limit": LETTERBOX_LIMIT,
        "truncated": truncated,
    }
    return render(request, "demo/letterbox.html", context)


@login_not_required
@require_safe
def letter_pdf(request, letter_id):
    _demo_mode_only()
    letter = get_object_or_404(Letter.objects.exclude(status=LetterStatus.QUEUED), pk=letter_id)
    path = letter.pdf_file
    if path is None or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), content_type="application/pdf", filename=f"courrier-{letter.pk}.pdf")
