"""The monthly statement as a PDF (ReportLab platypus), for the download and for the letters.

Page 1 is laid out like every letter of the fund (portail/post/letters/layout.py):
the fund top left, the recipient's address where the window of a DL or C5/6
envelope shows it, then the statement from BODY_TOP down. The table of
payments and acts flows over as many pages as it needs, its header row
repeated on each; a flowable of our own (`_StatementTable`) draws it straight
on the canvas, with a platypus Table's geometry at a fraction of its cost.
Every page says "Page n sur N". The words and figures are those of the HTML
page (`StatementDetail`, the `money` filter's functions), so that both versions
say the same thing.
"""

import functools
import io
import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, NextPageTemplate, PageTemplate, Paragraph, Spacer

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


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    font = fonts()
    return {
        "title": ParagraphStyle("title", fontName=font.bold, fontSize=13, leading=17, textColor=BRAND, spaceAfter=6),
        "body": ParagraphStyle("body", fontName=font.regular, fontSize=9.5, leading=13, spaceAfter=4),
        "small": ParagraphStyle("small", fontName=font.regular, fontSize=8, leading=10.5, spaceAfter=3),
        "subhead": ParagraphStyle("subhead", fontName=font.bold, fontSize=8.5, leading=11, keepWithNext=1),
    }


CELL_PADDING = 2  # points, each side
BODY_SIZE, BODY_LEADING = 7.5, 9.5
HEAD_SIZE, HEAD_LEADING = 7, 9
GROUP_SIZE, GROUP_LEADING = 8, 10.5
COLUMN_POSITIONS = tuple(itertools.accumulate((width * mm for width in COLUMN_WIDTHS_MM), initial=0))
RULE_COLOUR = colors.HexColor("#b1b4b6")
THIN_RULE, BRAND_RULE = 0.25, 0.8  # line widths, points


def _wrapped(value: str, font_name: str, size: float, first_column: int, last_column: int | None = None) -> list[str]:
    """`value` broken into the lines that fit columns first_column..last_column, as `simpleSplit` breaks it."""
    last_column = first_column if last_column is None else last_column
    width = COLUMN_POSITIONS[last_column + 1] - COLUMN_POSITIONS[first_column] - 2 * CELL_PADDING
    value = str(value)
    if "\n" not in value:
        # Most values fit on one line: measure it once rather than word by word. For a line that fits,
        # simpleSplit returns its words joined by single plain spaces.
        line = " ".join(value.split())
        if stringWidth(line, font_name, size) <= width:
            return [line] if line else []
    return simpleSplit(value, font_name, size, width)


@functools.lru_cache(maxsize=256)
def _wrapped_label(label: str, font_name: str, size: float, first_column: int, last_column: int | None = None):
    """`_wrapped` for the table's fixed words (column headings, natures of acts): every statement repeats them."""
    return tuple(_wrapped(label, font_name, size, first_column, last_column))


@dataclass(frozen=True)
class _Cell:
    lines: Sequence[str]
    first_column: int
    last_column: int
    right: bool = False  # aligned on the right edge of last_column


@dataclass(frozen=True)
class _Row:
    cells: list[_Cell]
    font: str
    size: float
    leading: float
    background: colors.Color | None = None
    rule_below: bool = False  # the thin grey line under a payment's caption and under each act
    rule_above: bool = False  # the brand line above the totals
    keep_with_previous: bool = False  # no page break just above this row

    @functools.cached_property
    def height(self) -> float:
        return self.leading * max(max(len(cell.lines), 1) for cell in self.cells) + 2 * CELL_PADDING


class _StatementTable(Flowable):
    """The table of payments and acts, drawn straight on the canvas: a platypus Table built from the same rows
    costs several times more for the same page. The geometry is that Table's (cell padding 2 points, text at the
    top of its cell, header row repeated after each page break, a page breaks between rows only where
    `keep_with_previous` allows it, and a rule on a page break drawn on both sides of it), so the printed
    statement is unchanged."""

    hAlign = "CENTER"  # as a Table (the table is as wide as the frame anyway)

    def __init__(self, header: _Row, rows: list[_Row], *, thin_rule_on_top=False, brand_rule_at_bottom=False):
        super().__init__()
        self.header = header
        self.rows = rows
        self.thin_rule_on_top = thin_rule_on_top  # under the repeated header: the page before ended on a rule
        self.brand_rule_at_bottom = brand_rule_at_bottom  # the next page starts with the totals
        self.width = COLUMN_POSITIONS[-1]
        self.height = header.height + sum(row.height for row in rows)

    def wrap(self, availWidth, availHeight):  # noqa: N803 (ReportLab's names)
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        """The rows that fit above `availHeight`, then the others under a repeated header; [] if no row fits."""
        used = self.header.height
        fitting = 0  # body rows on this page
        for count, row in enumerate(self.rows):
            used += row.height
            if used > availHeight:
                break
            if count + 1 == len(self.rows) or not self.rows[count + 1].keep_with_previous:
                fitting = count + 1
        if fitting == 0:
            return []
        if fitting == len(self.rows):
            return [self]
        return [
            _StatementTable(
                self.header,
                self.rows[:fitting],
                thin_rule_on_top=self.thin_rule_on_top,
                brand_rule_at_bottom=self.rows[fitting].rule_above,
            ),
            _StatementTable(
                self.header,
                self.rows[fitting:],
                thin_rule_on_top=self.rows[fitting - 1].rule_below,
                brand_rule_at_bottom=self.brand_rule_at_bottom,
            ),
        ]

    def draw(self):
        canvas = self.canv
        rows = [self.header, *self.rows]
        tops = list(itertools.accumulate((row.height for row in rows), operator.sub, initial=self.height))
        width = self.width
        canvas.saveState()
        for row, top, bottom in zip(rows, tops, tops[1:], strict=False):
            if row.background is not None:
                canvas.setFillColor(row.background)
                canvas.rect(0, bottom, width, top - bottom, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        text = canvas.beginText()
        font = None
        widths = {}  # amounts and rates repeat down a page (the base is often the amount paid, the rate 70 %)
        for row, top in zip(rows, tops, strict=False):
            size = row.size
            if font != (row.font, size, row.leading):
                font = (row.font, size, row.leading)
                text.setFont(*font)
            for cell in row.cells:
                if not cell.lines:
                    continue
                y = top - CELL_PADDING - size
                if cell.right:
                    right = COLUMN_POSITIONS[cell.last_column + 1] - CELL_PADDING
                    for line in cell.lines:
                        if (line, font) not in widths:
                            widths[line, font] = stringWidth(line, row.font, size)
                        text.setTextOrigin(right - widths[line, font], y)
                        text.textLine(line)
                        y -= row.leading
                else:
                    text.setTextOrigin(COLUMN_POSITIONS[cell.first_column] + CELL_PADDING, y)
                    for line in cell.lines:
                        text.textLine(line)  # then down by the leading
        canvas.drawText(text)
        canvas.setLineCap(1)  # round caps and joins, as a platypus Table draws its rules
        canvas.setLineJoin(1)
        canvas.setStrokeColor(BRAND)
        canvas.setLineWidth(BRAND_RULE)
        canvas.line(0, tops[1], width, tops[1])
        thin = [(0, bottom, width, bottom) for row, bottom in zip(rows, tops[1:], strict=False) if row.rule_below]
        if self.thin_rule_on_top:
            thin.insert(0, (0, tops[1], width, tops[1]))
        if thin:
            canvas.setStrokeColor(RULE_COLOUR)
            canvas.setLineWidth(THIN_RULE)
            canvas.lines(thin)
        brand = [(0, top, width, top) for row, top in zip(rows, tops, strict=False) if row.rule_above]
        if self.brand_rule_at_bottom:
            brand.insert(0, (0, 0, width, 0))
        if brand:
            canvas.setStrokeColor(BRAND)
            canvas.setLineWidth(BRAND_RULE)
            canvas.lines(brand)
        canvas.restoreState()


def _table(detail) -> _StatementTable:
    """The header row, a caption row per payment followed by its acts, and the two total rows."""
    font = fonts()
    columns = len(detail.columns)
    header = _Row(
        cells=[
            _Cell(_wrapped_label(str(label), font.bold, HEAD_SIZE, index), index, index)
            for index, (label, _number) in enumerate(detail.columns)
        ],
        font=font.bold,
        size=HEAD_SIZE,
        leading=HEAD_LEADING,
        background=HEADER_BACKGROUND,
    )
    natures = {value: str(label) for value, label in ActNature.choices}  # get_nature_display() is slow in a loop
    rows = []
    keep_with_previous = False  # under a payment's caption: a caption never ends a page, it stays with its first act
    for group in detail.groups:
        rows.append(
            _Row(
                cells=[_Cell(_wrapped(group.caption, font.bold, GROUP_SIZE, 0, columns - 1), 0, columns - 1)],
                font=font.bold,
                size=GROUP_SIZE,
                leading=GROUP_LEADING,
                background=GROUP_BACKGROUND,
                rule_below=True,
                keep_with_previous=keep_with_previous,
            )
        )
        keep_with_previous = True
        for line in group.lines:
            values = (
                format_money(line.amount_charged),
                format_money(line.base),
                format_rate(line.rate),
                format_money(line.reimbursed),
                format_money(line.deductions),
            )
            rows.append(
                _Row(
                    cells=[
                        _Cell([f"{line.care_date:%d/%m/%Y}"], 0, 0),
                        _Cell(_wrapped_label(natures.get(line.nature, line.nature), font.regular, BODY_SIZE, 1), 1, 1),
                        _Cell(_wrapped(line.practitioner, font.regular, BODY_SIZE, 2), 2, 2),
                        *(_Cell([value], column, column, right=True) for column, value in enumerate(values, start=3)),
                    ],
                    font=font.regular,
                    size=BODY_SIZE,
                    leading=BODY_LEADING,
                    rule_below=True,
                    keep_with_previous=keep_with_previous,
                )
            )
            keep_with_previous = False
    # The two total rows stay together.
    rows.append(
        _Row(
            cells=[
                _Cell(_wrapped_label(_("Total des actes"), font.bold, BODY_SIZE, 0, 2), 0, 2),
                _Cell([format_money(detail.total_charged)], 3, 3, right=True),
                _Cell([format_money(detail.total_reimbursed)], 6, 6, right=True),
                _Cell([format_money(detail.total_deductions)], 7, 7, right=True),
            ],
            font=font.bold,
            size=BODY_SIZE,
            leading=BODY_LEADING,
            rule_above=True,
        )
    )
    rows.append(
        _Row(
            cells=[
                _Cell(_wrapped(detail.total_paid_label, font.bold, BODY_SIZE, 0, 5), 0, 5),
                _Cell([format_money(detail.total_paid)], 6, 7, right=True),
            ],
            font=font.bold,
            size=BODY_SIZE,
            leading=BODY_LEADING,
            keep_with_previous=True,
        )
    )
    return _StatementTable(header, rows)


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
