"""The renderer registry: one class per kind of letter, each in its own module.

To add a kind of letter: add a value to `LetterKind`, write a module in this
package with a `LetterRenderer` subclass decorated with `@register`, and import
that module in `portail/post/letters/__init__.py`.
"""

import io
from datetime import date, datetime

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from portail.post.letters.layout import LetterPage, text

RENDERERS: dict[str, "LetterRenderer"] = {}


class LetterRenderer:
    """Draws one kind of letter. Subclasses set `kind`, the keys they need, and implement `draw_body`."""

    kind: str = ""
    title: str = ""  # PDF title, never holding a secret
    context_keys: frozenset[str] = frozenset()
    secret_keys: frozenset[str] = frozenset()

    def check(self, *, context: dict, secret_context: dict) -> None:
        """Refuse, at enqueue time, a letter that could not be drawn or would file a secret in clear."""
        if missing := self.context_keys - context.keys():
            raise ValueError(f"Letter {self.kind}: missing context keys {sorted(missing)}.")
        if missing := self.secret_keys - secret_context.keys():
            raise ValueError(f"Letter {self.kind}: missing secret keys {sorted(missing)}.")
        if leaked := self.secret_keys & context.keys():
            raise ValueError(f"Letter {self.kind}: secret keys {sorted(leaked)} belong in secret_context.")

    def render(self, letter) -> tuple[bytes, int]:
        """The PDF of `letter` and its number of pages, in the portal's language."""
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
        with translation.override(settings.LANGUAGE_CODE):
            canvas.setTitle(str(self.title))
            canvas.setAuthor(settings.PORTAIL_FUND_NAME)
            canvas.setSubject(str(self.title))
            page = LetterPage(canvas)
            self.draw_letterhead(page, letter)
            self.draw_body(page, letter)
            canvas.showPage()
        canvas.save()
        pdf = buffer.getvalue()
        return pdf, len(PdfReader(io.BytesIO(pdf)).pages)

    # Blocks every letter shares ------------------------------------------------

    def draw_letterhead(self, page: LetterPage, letter) -> None:
        page.fold_marks()
        page.sender_block(
            name=settings.PORTAIL_FUND_NAME,
            service=_("Service Portail assuré"),
            address=settings.PORTAIL_FUND_ADDRESS,
            phone=_("Téléphone : %(phone)s") % {"phone": settings.PORTAIL_FUND_PHONE},
        )
        page.address_block(letter.address_lines)
        page.place_and_date(place_and_date(timezone.localdate(letter.created_at)))
        page.footer(
            [
                f"{settings.PORTAIL_FUND_NAME} – {settings.PORTAIL_FUND_ADDRESS} – {settings.PORTAIL_FUND_PHONE}",
                _("Référence du courrier : %(id)s") % {"id": letter.pk},
            ]
        )

    def draw_body(self, page: LetterPage, letter) -> None:
        raise NotImplementedError

    # Helpers -------------------------------------------------------------------

    def draw_closing(self, page: LetterPage, letter, *, call_us_if: str) -> None:
        """ "If you did not ask for this, call us", the closing formula and the signature."""
        page.paragraph(text(call_us_if % {"phone": settings.PORTAIL_FUND_PHONE}), after_mm=5)
        page.paragraph(
            text(_("Nous vous prions d'agréer, %(salutation)s l'expression de nos salutations distinguées."))
            % {"salutation": text(self.salutation(letter.recipient_name))}
        )
        page.paragraph(text(_("Le service Portail assuré")), style="strong")

    @staticmethod
    def salutation(recipient_name: str) -> str:
        first_word = recipient_name.split(" ", 1)[0]
        if first_word == _("Madame"):
            return _("Madame,")
        if first_word == _("Monsieur"):
            return _("Monsieur,")
        return _("Madame, Monsieur,")


def fund_place() -> str:
    """The town of the fund's address: "1 rue X, 75000 Paris" → "Paris"."""
    last_part = settings.PORTAIL_FUND_ADDRESS.rsplit(",", 1)[-1].strip()
    words = last_part.split(" ", 1)
    return words[1] if len(words) == 2 and words[0].isdigit() else last_part


def place_and_date(day: date) -> str:
    return _("%(place)s, le %(date)s") % {"place": fund_place(), "date": formats.date_format(day, "j F Y")}


def as_date(value) -> date:
    """A local date from a date, a datetime, or the ISO string a JSONField gives back for either."""
    if isinstance(value, str):
        value = parse_datetime(value) or parse_date(value)
        if value is None:
            raise ValueError("Not an ISO date or datetime.")
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    raise ValueError(f"Not a date: {type(value).__name__}.")


def short_date(value) -> str:
    """dd/mm/yyyy, the way French letters and forms write dates."""
    return as_date(value).strftime("%d/%m/%Y")


def register(renderer_class: type[LetterRenderer]) -> type[LetterRenderer]:
    """Class decorator: make `renderer_class` the renderer of its kind."""
    if renderer_class.kind in RENDERERS:
        raise ValueError(f"Two renderers for letter kind {renderer_class.kind!r}.")
    RENDERERS[renderer_class.kind] = renderer_class()
    return renderer_class


def renderer_for(kind: str) -> LetterRenderer:
    try:
        return RENDERERS[kind]
    except KeyError:
        raise ValueError(f"No renderer for letter kind {kind!r}.") from None
