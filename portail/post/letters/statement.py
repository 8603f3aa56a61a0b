"""Monthly statements by post (no active account, or statements go to a complementary insurer) and
paper duplicates asked for online.

A statement may need several pages, so these renderers override `render`:
the PDF is the statement itself (portail/benefits/statement_pdf.py), with the
recipient's address from the letter (the register when it was ordered) in the
envelope window on page 1, the letter's reference in the footer and, for a
duplicate, "DUPLICATA" on every page. Only the masked NIR is printed.
"""

import re

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from portail.post.enums import LetterKind
from portail.post.letters.base import LetterRenderer, register

MONTH_CODE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class StatementLetter(LetterRenderer):
    context_keys = frozenset({"statement_id", "month"})
    duplicate = False

    def check(self, *, context: dict, secret_context: dict) -> None:
        super().check(context=context, secret_context=secret_context)
        if not isinstance(context["statement_id"], int):
            raise ValueError("A statement letter needs the statement's id.")
        if not (isinstance(context["month"], str) and MONTH_CODE.match(context["month"])):
            raise ValueError("A statement letter's month is written YYYY-MM.")

    def render(self, letter) -> tuple[bytes, int]:
        # Imported here: the benefits app imports portail.post.services, which imports this package.
        from portail.benefits.models import Statement
        from portail.benefits.statement_pdf import statement_pdf_render
        from portail.benefits.statements import statement_detail

        statement = Statement.objects.for_member(letter.member_id).get(pk=letter.context["statement_id"])
        with translation.override(settings.LANGUAGE_CODE):
            pdf = statement_pdf_render(
                detail=statement_detail(statement=statement),
                address_lines=letter.address_lines,
                duplicate=self.duplicate,
                letter_reference=letter.pk,
                issued_on=timezone.localdate(letter.created_at),
            )
        return pdf.data, pdf.page_count

    def draw_body(self, page, letter) -> None:  # the whole PDF comes from `render`
        raise NotImplementedError


@register
class MonthlyStatementLetter(StatementLetter):
    kind = LetterKind.MONTHLY_STATEMENT
    title = gettext_lazy("Relevé mensuel de vos remboursements")


@register
class StatementDuplicateLetter(StatementLetter):
    kind = LetterKind.STATEMENT_DUPLICATE
    title = gettext_lazy("Duplicata de votre relevé mensuel")
    duplicate = True
