"""The page every letter shares: A4 portrait, folded in three, in a window envelope.

Geometry, in millimetres from the top-left corner of the sheet (ReportLab
draws from the bottom-left corner: `LetterPage` converts).

Recipient address: the French window envelopes DL (110 × 220 mm) and C5/6
(114 × 229 mm) have a 100 × 45 mm window on the right, 20 mm from the right
edge and 15 mm from the bottom edge (Swiss/French window norms tabulated in
"Normes pour enveloppes à fenêtre", https://studylibfr.com/doc/2273411). An A4
sheet folded in three is 99 mm high and slides up to 11–15 mm inside the
envelope, so the part of the sheet that always shows through the window is
about 100–190 mm from the left edge and 54–84 mm from the top. The address
therefore goes in the box that French mailing guides give for window
envelopes: 85 mm wide × 33 mm high, 110 mm from the left edge and 55 mm from
the top (https://edics.fr/rediger-vos-adresses-les-bonnes-pratiques/, which
also leaves room above the name for a registered-mail barcode). The address
itself follows La Poste's addressing rules ("Guide pratique courrier", La
Poste, May 2021, https://fr.readkong.com/page/guide-pratique-courrier-pour-une-prise-en-charge-optimale-5058233):
at most 6 lines of at most 38 characters, no blank line, left-aligned, the
last line "POSTAL CODE CITY" in capitals, a plain 10–12 pt font.

Nothing else is printed in the window zone, so that no other text shows
through the window.
"""

import functools
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_LEFT = 20 * mm
MARGIN_RIGHT = 20 * mm
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

SENDER_TOP = 15 * mm
ADDRESS_LEFT = 110 * mm
ADDRESS_TOP = 55 * mm
ADDRESS_WIDTH = 85 * mm
ADDRESS_HEIGHT = 33 * mm
ADDRESS_MAX_LINES = 6
ADDRESS_FONT_SIZE = 11
PLACE_DATE_TOP = 101 * mm  # below the lowest edge the window can reach (95 mm)
BODY_TOP = 112 * mm
FOOTER_BOTTOM = 12 * mm
BODY_BOTTOM = PAGE_HEIGHT - 20 * mm  # the body must end above the footer (its top line is 18 mm up)
# Fold marks on the left edge: the sheet is folded in three equal panels.
FOLD_MARKS = (99 * mm, 198 * mm)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    mono_bold: str


@functools.cache
def fonts() -> Fonts:
    """DejaVu (every French accent, text stays extractable) when Debian has it, else the PDF base fonts."""
    files = {
        "PortailSans": FONT_DIR / "DejaVuSans.ttf",
        "PortailSans-Bold": FONT_DIR / "DejaVuSans-Bold.ttf",
        "PortailMono-Bold": FONT_DIR / "DejaVuSansMono-Bold.ttf",
    }
    if not all(path.is_file() for path in files.values()):
        return Fonts(regular="Helvetica", bold="Helvetica-Bold", mono_bold="Courier-Bold")
    for name, path in files.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))
    # <b> in paragraph mark-up picks the bold face.
    registerFontFamily("PortailSans", normal="PortailSans", bold="PortailSans-Bold")
    return Fonts(regular="PortailSans", bold="PortailSans-Bold", mono_bold="PortailMono-Bold")


def text(value: object) -> str:
    """Escape a value for ReportLab's paragraph mark-up (names may hold & or <)."""
    return escape(str(value))


class LetterPage:
    """A canvas with one method per block of a letter; the body flows down from BODY_TOP."""

    def __init__(self, canvas: Canvas):
        self.canvas = canvas
        self.fonts = fonts()
        self.cursor = BODY_TOP  # distance from the top of the sheet to the next body block
        self.styles = {
            "body": ParagraphStyle("body", fontName=self.fonts.regular, fontSize=10.5, leading=14),
            "strong": ParagraphStyle("strong", fontName=self.fonts.bold, fontSize=10.5, leading=14),
            "subject": ParagraphStyle("subject", fontName=self.fonts.bold, fontSize=12, leading=16),
            "small": ParagraphStyle("small", fontName=self.fonts.regular, fontSize=8, leading=10),
        }

    # Coordinates -----------------------------------------------------------

    @staticmethod
    def from_top(distance: float) -> float:
        """ReportLab's y for a distance measured from the top of the sheet."""
        return PAGE_HEIGHT - distance

    # Fixed blocks, shared by every kind of letter ---------------------------

    def fold_marks(self) -> None:
        self.canvas.saveState()
        self.canvas.setStrokeColor(colors.grey)
        self.canvas.setLineWidth(0.3)
        for distance in FOLD_MARKS:
            y = self.from_top(distance)
            self.canvas.line(0, y, 5 * mm, y)
        self.canvas.restoreState()

    def sender_block(self, *, name: str, address: str, phone: str, service: str) -> None:
        """The fund, top left: name, service, postal address (one line per comma), phone."""
        y = self.from_top(SENDER_TOP)
        self.canvas.setFont(self.fonts.bold, 13)
        self.canvas.setFillColor(colors.HexColor("#1d4f91"))
        self.canvas.drawString(MARGIN_LEFT, y, name)
        self.canvas.setFillColor(colors.black)
        self.canvas.setFont(self.fonts.regular, 9.5)
        lines = [service, *[part.strip() for part in address.split(",") if part.strip()], phone]
        for line in lines:
            y -= 12.5
            self.canvas.drawString(MARGIN_LEFT, y, line)

    def address_block(self, lines: list[str]) -> None:
        """The recipient, placed to show through the envelope window (see the module docstring)."""
        if len(lines) > ADDRESS_MAX_LINES:
            raise ValueError(f"A postal address has at most {ADDRESS_MAX_LINES} lines, got {len(lines)}.")
        leading = ADDRESS_FONT_SIZE * 1.25
        self.canvas.setFont(self.fonts.regular, ADDRESS_FONT_SIZE)
        y = self.from_top(ADDRESS_TOP) - ADDRESS_FONT_SIZE
        for line in lines:
            self.canvas.drawString(ADDRESS_LEFT, y, line)
            y -= leading

    def place_and_date(self, value: str) -> None:
        """ "Paris, le 3 mars 2025", below the window zone, aligned with the address."""
        self.canvas.setFont(self.fonts.regular, 10.5)
        self.canvas.drawString(ADDRESS_LEFT, self.from_top(PLACE_DATE_TOP), value)

    def footer(self, lines: list[str]) -> None:
        """Small centred lines at the bottom of the sheet: who writes, and the letter's reference."""
        self.canvas.setFont(self.fonts.regular, 7.5)
        self.canvas.setFillColor(colors.HexColor("#4a4a4a"))
        y = FOOTER_BOTTOM + 9 * (len(lines) - 1)
        for line in lines:
            self.canvas.drawCentredString(PAGE_WIDTH / 2, y, line)
            y -= 9
        self.canvas.setFillColor(colors.black)

    # Flowing body ------------------------------------------------------------

    def space(self, height_mm: float) -> None:
        self.cursor += height_mm * mm

    def paragraph(self, markup: str, *, style: str = "body", indent: float = 0, after_mm: float = 2.5) -> None:
        """A wrapped paragraph (ReportLab mark-up: escape values with `text()`)."""
        flowable = Paragraph(markup, self.styles[style])
        _, height = flowable.wrap(TEXT_WIDTH - indent, PAGE_HEIGHT)
        self._check_room(height)
        flowable.drawOn(self.canvas, MARGIN_LEFT + indent, self.from_top(self.cursor) - height)
        self.cursor += height + after_mm * mm

    def _check_room(self, height: float) -> None:
        """One-page letters: refuse to draw over the footer rather than print an unreadable letter."""
        if self.cursor + height > BODY_BOTTOM:
            raise ValueError("The letter's body does not fit on one page.")

    def subject(self, value: str) -> None:
        self.paragraph(text(value), style="subject", after_mm=5)

    def numbered_steps(self, steps: list[str]) -> None:
        """1, 2, 3 in bold in the margin of an indented paragraph each."""
        for number, step in enumerate(steps, start=1):
            top = self.cursor
            self.canvas.setFont(self.fonts.bold, 10.5)
            self.canvas.drawString(MARGIN_LEFT + 2 * mm, self.from_top(top) - 10.5, f"{number}.")
            self.paragraph(step, indent=9 * mm, after_mm=2)
        self.space(1.5)

    def highlighted_code(self, *, label: str, code: str, note: str) -> None:
        """A shaded box with a label, the code in large monospaced digits and a note under it."""
        box_height = 30 * mm
        top = self.cursor
        self._check_room(box_height)
        self.canvas.saveState()
        self.canvas.setFillColor(colors.HexColor("#f3f2f1"))
        self.canvas.setStrokeColor(colors.HexColor("#1d4f91"))
        self.canvas.setLineWidth(1.2)
        self.canvas.roundRect(MARGIN_LEFT, self.from_top(top + box_height), TEXT_WIDTH, box_height, 2 * mm, fill=1)
        self.canvas.restoreState()
        centre = MARGIN_LEFT + TEXT_WIDTH / 2
        self.canvas.setFont(self.fonts.bold, 10.5)
        self.canvas.drawCentredString(centre, self.from_top(top + 7 * mm), label)
        self.canvas.setFont(self.fonts.mono_bold, 26)
        self.canvas.drawCentredString(centre, self.from_top(top + 18 * mm), code)
        self.canvas.setFont(self.fonts.regular, 10)
        self.canvas.drawCentredString(centre, self.from_top(top + 25.5 * mm), note)
        self.cursor = top + box_height + 6 * mm
