"""Statement PDF: our drawing (portail/benefits/statement_pdf.py) beside bare ReportLab drawing the same table.

A typical month: 12 payments, 20 acts. "Ours" is the whole document a member
downloads or receives (header block, window address, DejaVu fonts embedded,
payment captions, totals, legend, "Page n sur N"); "bare" is a minimal
SimpleDocTemplate + Table with the same rows as plain strings, in the same fonts (the regular face for the
cells, the bold one for the heading row: both are embedded, as in ours; with Helvetica the reference would
skip the font subsetting that any PDF a member can read with every accent must pay). The ratio says what
the layout costs on top of ReportLab itself. Target: ≤ 1.5.
"""

import datetime as dt
import io
import random
import time
from decimal import Decimal

from bench.common import median_and_spread, tqdm_range

REPEATS = 200
QUICK_REPEATS = 50
PAYMENTS = 12
ACTS = 20


def _median_and_spread_ms(samples: list[float]) -> tuple[float, float]:
    median, spread = median_and_spread(samples)
    return round(median * 1000, 2), round(spread * 1000, 2)


def _typical_statement():
    """A member with 12 payments and 20 acts in March 2026, and that month's statement."""
    from portail.benefits.enums import ActNature, Payee, StatementDelivery
    from portail.benefits.models import Payment, PaymentLine, Statement
    from portail.registry.models import Fund, Member
    from portail.registry.nir import nir_generate

    rng = random.Random(2026)
    fund, _ = Fund.objects.get_or_create(code="999", defaults={"name": "Caisse de démonstration"})
    birth_date = dt.date(1975, 6, 12)
    member = Member.objects.create(
        nir=nir_generate(sex="2", birth_date=birth_date, rng=rng).number,
        last_name="Mesure",
        first_names="Claire",
        birth_date=birth_date,
        sex="2",
        address_line1="8 avenue du Banc d'Essai",
        postal_code="31000",
        city="Toulouse",
        fund=fund,
    )
    natures = list(ActNature)
    total = Decimal("0.00")
    for index in range(PAYMENTS):
        payment = Payment.objects.create(
            external_id=f"BENCH-{index}",
            member=member,
            paid_on=dt.date(2026, 3, 2 + 2 * index),
            amount=Decimal(rng.randint(500, 9000)) / 100,
            payee=Payee.MEMBER if index % 3 else Payee.PROFESSIONAL,
        )
        total += payment.amount
        for act in range(2 if index < ACTS - PAYMENTS else 1):
            charged = Decimal(rng.randint(1000, 12000)) / 100
            PaymentLine.objects.create(
                payment=payment,
                care_date=payment.paid_on - dt.timedelta(days=3 + act),
                nature=natures[(index + act) % len(natures)],
                practitioner=f"Dr Praticien {index}-{act}",
                amount_charged=charged,
                base=charged,
                rate=Decimal("70.00"),
                reimbursed=(charged * Decimal("0.7")).quantize(Decimal("0.01")),
                flat_fee=Decimal("2.00"),
            )
    return Statement.objects.create(
        member=member,
        month=dt.date(2026, 3, 1),
        delivery=StatementDelivery.ONLINE,
        payment_count=PAYMENTS,
        total_paid=total,
    )


def _bare_rows(detail) -> list[list[str]]:
    """The same table as plain strings: header, a caption row per payment, its acts, the two total rows."""
    from portail.benefits.templatetags.money import format_money, format_rate

    rows = [[str(label) for label, _number in detail.columns]]
    for group in detail.groups:
        rows.append([group.caption] + [""] * 7)
        for line in group.lines:
            rows.append(
                [
                    f"{line.care_date:%d/%m/%Y}",
                    line.get_nature_display(),
                    line.practitioner,
                    format_money(line.amount_charged),
                    format_money(line.base),
                    format_rate(line.rate),
                    format_money(line.reimbursed),
                    format_money(line.deductions),
                ]
            )
    rows.append(["Total des actes", "", "", format_money(detail.total_charged), "", "", "", ""])
    rows.append([detail.total_paid_label, "", "", "", "", "", format_money(detail.total_paid), ""])
    return rows


def _bare_pdf(rows) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    from portail.post.letters.layout import fonts

    faces = fonts()
    style = TableStyle([("FONT", (0, 0), (-1, -1), faces.regular, 8), ("FONT", (0, 0), (-1, 0), faces.bold, 8)])
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build([Table(rows, repeatRows=1, style=style)])
    return buffer.getvalue()


def run(quick: bool) -> dict:
    from django.utils import translation

    from portail.benefits.statement_pdf import statement_pdf_render
    from portail.benefits.statements import statement_detail

    repeats = QUICK_REPEATS if quick else REPEATS
    with translation.override("fr"):
        detail = statement_detail(statement=_typical_statement())
        acts = sum(len(group.lines) for group in detail.groups)
        rows = _bare_rows(detail)
        ours_pdf = statement_pdf_render(detail=detail, address_lines=detail.address_lines)
        bare_pdf = _bare_pdf(rows)  # warm both (font registration, imports)

        ours, bare = [], []
        for _ in tqdm_range(repeats, "our statement, then bare ReportLab"):
            started = time.perf_counter()
            statement_pdf_render(detail=detail, address_lines=detail.address_lines)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            _bare_pdf(rows)
            bare.append(time.perf_counter() - started)

    ours_median, ours_spread = _median_and_spread_ms(ours)
    bare_median, bare_spread = _median_and_spread_ms(bare)
    return {
        "payments": len(detail.groups),
        "acts": acts,
        "pages": ours_pdf.page_count,
        "ours_kib": round(len(ours_pdf.data) / 1024, 1),
        "bare_kib": round(len(bare_pdf) / 1024, 1),
        "ours_ms_median": ours_median,
        "ours_ms_p10_p90_spread": ours_spread,
        "bare_ms_median": bare_median,
        "bare_ms_p10_p90_spread": bare_spread,
        "ratio_ours_over_bare": round(ours_median / bare_median, 2),
        "target": "ratio <= 1.5",
        "repeats": repeats,
    }
