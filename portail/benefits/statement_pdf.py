"""The monthly statement as a PDF (ReportLab platypus), for the download and for the letters.

Page 1 is laid out like every letter of the fund (portail/post/letters/layout.py):
the fund top left, the recipient's address where the window of a DL or C5/6
envelope shows it, then the statement from BODY_TOP down. The table of
payments and acts flows over as many pages as it needs, its header row
repeated on each; every page says "Page n sur N". The words and figures are
those of the HTML page (`StatementDetail`, the `money` filter's functions), so
that both versions say the same thing.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, NextPageTemplate, PageTemplate, Paragraph, Spacer, Table
from reportlab.platypus import TableStyle as PlatypusTableStyle

from portail.benefits.enums import ActNature
from portail.benefits.templatetags.money import format_money, format_rate
from portail.post.letters.base import place_and_date
from portail.post.letters.layout import (
    BODY_TOP,
    FOOTER_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    SENDER_TOP,
    TEXT_WIDTH,
    LetterPage,
    fonts,
    text,
)

LATER_PAGES_TOP = 24 * mm
BOTTOM_MARGIN = 26 * mm  # above the footer lines and the page number
COLUMN_WIDTHS_MM = (17, 26, 30, 19, 25, 11, 22, 20)  # 170 mm: the text width
BRAND = colors.HexColor("#1d4f91")
GROUP_BACKGROUND = colors.HexColor("#eef2f7")
HEADER_BACKGROUND = colors.HexColor("#dfe5ee")
DUPLICATE_COLOUR = colors.HexColor("#a4161a")


@dataclass(frozen=True)
class StatementPdf:
    data: bytes
    page_count: int


class _NumberedCanvas(Canvas):
    """Keeps every page until the end, then writes "Page n sur N" and the footer lines on each."""

    def __init__(self, *args, footer_lines: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self._footer_lines = footer_lines
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        self.page_count = total
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        font = fonts()
        self.setFillColor(colors.HexColor("#4a4a4a"))
        self.setFont(font.regular, 7.5)
        y = FOOTER_BOTTOM
        for line in reversed(self._footer_lines):
            self.drawCentredString(PAGE_WIDTH / 2, y, line)
            y += 9
        self.setFont(font.bold, 8.5)
        self.setFillColor(colors.black)
        self.drawRightString(
            PAGE_WIDTH - MARGIN_RIGHT,
            y + 4,
            _("Page %(page)d sur %(pages)d")
            % {
                "page": number,
                "pages": total,
            },
        )


def _styles() -> dict[str, ParagraphStyle]:
    font = fonts()
    return {
        "title": ParagraphStyle("title", fontName=font.bold, fontSize=13, leading=17, textColor=BRAND, spaceAfter=6),
        "body": ParagraphStyle("body", fontName=font.regular, fontSize=9.5, leading=13, spaceAfter=4),
        "small": ParagraphStyle("small", fontName=font.regular, fontSize=8, leading=10.5, spaceAfter=3),
        "group": ParagraphStyle("group", fontName=font.bold, fontSize=8, leading=10.5),
        "subhead": ParagraphStyle("subhead", fontName=font.bold, fontSize=8.5, leading=11, keepWithNext=1),
    }


CELL_PADDING = 2  # points, each side
BODY_SIZE, BODY_LEADING = 7.5, 9.5
HEAD_SIZE, HEAD_LEADING = 7, 9
GROUP_SIZE, GROUP_LEADING = 8, 10.5


def _wrapped(value: str, font_name: str, size: float, first_column: int, last_column: int | None = None) -> str:
    """`value` broken into lines that fit columns first_column..last_column (plain strings are much cheaper
    to lay out than paragraphs, and a table cell takes "\n" as a line break)."""
    columns = COLUMN_WIDTHS_MM[first_column : (last_column if last_column is not None else first_column) + 1]
    width = sum(columns) * mm - 2 * CELL_PADDING
    return "\n".join(simpleSplit(str(value), font_name, size, width))


def statement_table_rows(detail) -> tuple[list[list[str]], list[int]]:
    """The table's rows (header first, two total rows last) and the indexes of the payment caption rows."""
    font = fonts()
    rows: list[list[str]] = [
        [_wrapped(label, font.bold, HEAD_SIZE, index) for index, (label, _number) in enumerate(detail.columns)]
    ]
    blank = [""] * (len(detail.columns) - 1)
    natures = {value: str(label) for value, label in ActNature.choices}  # get_nature_display() is slow in a loop
    group_rows = []
    for group in detail.groups:
        group_rows.append(len(rows))
        rows.append([_wrapped(group.caption, font.bold, GROUP_SIZE, 0, len(detail.columns) - 1), *blank])
        for line in group.lines:
            rows.append(
                [
                    f"{line.care_date:%d/%m/%Y}",
                    _wrapped(natures.get(line.nature, line.nature), font.regular, BODY_SIZE, 1),
                    _wrapped(line.practitioner, font.regular, BODY_SIZE, 2),
                    format_money(line.amount_charged),
                    format_money(line.base),
                    format_rate(line.rate),
                    format_money(line.reimbursed),
                    format_money(line.deductions),
                ]
            )
    rows.append(
        [
            _wrapped(_("Total des actes"), font.bold, BODY_SIZE, 0, 2),
            "",
            "",
            format_money(detail.total_charged),
            "",
            "",
            format_money(detail.total_reimbursed),
            format_money(detail.total_deductions),
        ]
    )
    rows.append(
        [_wrapped(detail.total_paid_label, font.bold, BODY_SIZE, 0, 5), *[""] * 5, format_money(detail.total_paid), ""]
    )
    return rows, group_rows


def _table(detail) -> Table:
    rows, group_rows = statement_table_rows(detail)
    font = fonts()
    last = len(rows) - 1
    commands = [
        ("FONT", (0, 0), (-1, -1), font.regular, BODY_SIZE, BODY_LEADING),
        ("FONT", (0, 0), (-1, 0), font.bold, HEAD_SIZE, HEAD_LEADING),
        ("FONT", (0, last - 1), (-1, last), font.bold, BODY_SIZE, BODY_LEADING),
        ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, BRAND),
        ("LINEBELOW", (0, 1), (-1, last - 2), 0.25, colors.HexColor("#b1b4b6")),
        ("LINEABOVE", (0, last - 1), (-1, last - 1), 0.8, BRAND),
        ("SPAN", (0, last - 1), (2, last - 1)),
        ("SPAN", (0, last), (5, last)),
        ("SPAN", (6, last), (7, last)),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for index in group_rows:
        commands += [
            ("SPAN", (0, index), (-1, index)),
            ("FONT", (0, index), (-1, index), font.bold, GROUP_SIZE, GROUP_LEADING),
            ("ALIGN", (0, index), (-1, index), "LEFT"),
            ("BACKGROUND", (0, index), (-1, index), GROUP_BACKGROUND),
            # A payment's caption never ends a page: it stays with its first act.
            ("NOSPLIT", (0, index), (-1, min(index + 1, last - 2))),
        ]
    # The two total rows stay together.
    commands.append(("NOSPLIT", (0, last - 1), (-1, last)))
    return Table(
        rows,
        colWidths=[width * mm for width in COLUMN_WIDTHS_MM],
        repeatRows=1,
        style=PlatypusTableStyle(commands),
    )


def statement_pdf_render(
    *,
    detail,
    address_lines: list[str],
    duplicate: bool = False,
    letter_reference: int | None = None,
    issued_on=None,
) -> StatementPdf:
    """Draw the statement `detail` (a `statements.StatementDetail`) addressed to `address_lines`.

    `duplicate` marks every page "DUPLICATA"; `letter_reference` adds the letter's number to the footer
    and fold marks to page 1; `issued_on` is the date printed under the address (default: when the
    statement was established).
    """
    styles = _styles()
    font = fonts()
    statement = detail.statement
    issued_on = issued_on or timezone.localdate(statement.created_at)
    title = _("Relevé mensuel de vos remboursements : %(month)s") % {"month": detail.month_label}
    if duplicate:
        title = _("DUPLICATA – %(title)s") % {"title": title}
    running_head = _("Relevé de %(month)s – %(name)s – n° de sécurité sociale %(nir)s (suite)") % {
        "month": detail.month_label,
        "name": detail.member_name,
        "nir": detail.member.nir_masked,
    }

    def duplicate_mark(canvas: Canvas) -> None:
        if duplicate:
            canvas.saveState()
            canvas.setFont(font.bold, 16)
            canvas.setFillColor(DUPLICATE_COLOUR)
            canvas.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, PAGE_HEIGHT - SENDER_TOP, _("DUPLICATA"))
            canvas.restoreState()

    def first_page(canvas: Canvas, document) -> None:
        page = LetterPage(canvas)
        if letter_reference is not None:
            page.fold_marks()
        page.sender_block(
            name=settings.PORTAIL_FUND_NAME,
            service=_("Service des remboursements"),
            address=settings.PORTAIL_FUND_ADDRESS,
            phone=_("Téléphone : %(phone)s") % {"phone": settings.PORTAIL_FUND_PHONE},
        )
        page.address_block(address_lines)
        page.place_and_date(place_and_date(issued_on))
        duplicate_mark(canvas)

    def later_page(canvas: Canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(font.regular, 8)
        canvas.setFillColor(colors.HexColor("#4a4a4a"))
        canvas.drawString(MARGIN_LEFT, PAGE_HEIGHT - 15 * mm, running_head)
        canvas.restoreState()
        duplicate_mark(canvas)

    frame_height_first = PAGE_HEIGHT - BODY_TOP - BOTTOM_MARGIN
    frame_height_later = PAGE_HEIGHT - LATER_PAGES_TOP - BOTTOM_MARGIN
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=LATER_PAGES_TOP,
        bottomMargin=BOTTOM_MARGIN,
        title=title,
        author=settings.PORTAIL_FUND_NAME,
        subject=title,
        creator=settings.PORTAIL_FUND_NAME,
        pageCompression=1,
    )
    document.addPageTemplates(
        [
            PageTemplate(
                id="first",
                frames=[Frame(MARGIN_LEFT, BOTTOM_MARGIN, TEXT_WIDTH, frame_height_first, 0, 0, 0, 0, id="first")],
                onPage=first_page,
                autoNextPageTemplate="later",
            ),
            PageTemplate(
                id="later",
                frames=[Frame(MARGIN_LEFT, BOTTOM_MARGIN, TEXT_WIDTH, frame_height_later, 0, 0, 0, 0, id="later")],
                onPage=later_page,
            ),
        ]
    )

    story = [
        NextPageTemplate("later"),
        Paragraph(text(title), styles["title"]),
        Paragraph(
            text(_("Assuré : %(name)s – n° de sécurité sociale : %(nir)s"))
            % {"name": text(detail.member_name), "nir": text(detail.member.nir_masked)},
            styles["body"],
        ),
        Paragraph(text(detail.summary_line), styles["body"]),
        Spacer(1, 2 * mm),
        _table(detail),
        Spacer(1, 3 * mm),
        Paragraph(text(_("Comment lire ce relevé")), styles["subhead"]),
    ]
    story += [Paragraph(text(sentence), styles["small"]) for sentence in legend()]

    footer_lines = [f"{settings.PORTAIL_FUND_NAME} – {settings.PORTAIL_FUND_ADDRESS} – {settings.PORTAIL_FUND_PHONE}"]
    if letter_reference is not None:
        footer_lines.append(_("Référence du courrier : %(id)s") % {"id": letter_reference})

    canvases = []

    def canvas_maker(*args, **kwargs):
        canvas = _NumberedCanvas(*args, footer_lines=footer_lines, **kwargs)
        canvases.append(canvas)
        return canvas

    document.build(story, canvasmaker=canvas_maker)
    return StatementPdf(data=buffer.getvalue(), page_count=canvases[-1].page_count)


def legend() -> list[str]:
    """What the columns mean: printed under the table in the PDF and on the page."""
    return [
        _("Montant payé : ce que le professionnel de santé vous a facturé."),
        _(
            "Base de remboursement et taux : le tarif de référence de l'Assurance Maladie et la part "
            "qu'elle en rembourse."
        ),
        _("Déductions : participation forfaitaire et franchises médicales, retenues sur vos remboursements."),
        _(
            "Le reste à votre charge peut être remboursé par votre complémentaire santé. Conservez ce "
            "relevé : il vaut justificatif."
        ),
    ]
