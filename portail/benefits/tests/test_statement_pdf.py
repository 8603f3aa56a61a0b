"""The statement PDF's table (portail/benefits/statement_pdf.py): how it breaks over pages and how it wraps words."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation
from reportlab.lib.utils import simpleSplit

from portail.benefits.factories import PaymentFactory, StatementFactory
from portail.benefits.statement_pdf import CELL_PADDING, COLUMN_POSITIONS, GROUP_BACKGROUND, _table, _wrapped
from portail.benefits.statements import statement_detail
from portail.post.letters.layout import fonts
from portail.registry.factories import MemberFactory

MARCH = dt.date(2026, 3, 1)


def is_caption(row) -> bool:
    return row.background is GROUP_BACKGROUND


@pytest.fixture
def table(db):
    """A table of 9 payments, with 0 to 3 acts each, under its header."""
    member = MemberFactory()
    for index in range(9):
        PaymentFactory(member=member, paid_on=dt.date(2026, 3, 2 + index), amount=Decimal("12.30"), lines=index % 4)
    with translation.override("fr"):
        return _table(statement_detail(statement=StatementFactory(member=member, month=MARCH)))


class TestPageBreaks:
    def test_whatever_the_room_left_on_the_page_the_break_falls_where_it_may(self, table):
        header = table.header.height
        for room in range(int(header), int(table.height) + 20):
            parts = table.split(table.width, room)

            if not parts:  # not even the first rows that may end a page fit: all on the next page
                first_break = next(index for index, row in enumerate(table.rows[1:], 1) if not row.keep_with_previous)
                assert header + sum(row.height for row in table.rows[:first_break]) > room
                continue
            if parts == [table]:
                assert table.height <= room
                continue
            first, rest = parts
            assert first.height <= room
            assert first.header is rest.header is table.header  # the header row is repeated on the next page
            assert first.rows + rest.rows == table.rows
            # A payment's caption stays with the row under it, unless the totals come next.
            assert not is_caption(first.rows[-1]) or rest.rows[0].rule_above
            assert len(rest.rows) != 1  # the two total rows stay together
            assert rest.thin_rule_on_top  # the rule under the page's last row is repeated under the header
            assert first.brand_rule_at_bottom == rest.rows[0].rule_above  # so is the rule above the totals

    def test_a_caption_stays_with_the_row_under_it_even_the_next_payments_caption(self, table):
        captions = [index for index, row in enumerate(table.rows) if is_caption(row)]
        kept = [index for index, row in enumerate(table.rows) if row.keep_with_previous]

        # Payments 0, 4 and 8 have no act; the last one's caption may end a page, above the totals.
        assert kept == [index + 1 for index in captions[:-1]] + [len(table.rows) - 1]
        assert captions[1] in kept and captions[5] in kept


class TestWrapping:
    @pytest.mark.parametrize(
        "value",
        [
            "",
            "   ",
            "Dr Martin",
            "Consultation de spécialiste",
            "Paiement du 02/03/2026 : 1\u00a0234,56\u00a0€ versés à : vous",  # simpleSplit breaks at no-break spaces
            "Pharmacie  du   Centre & Fils <Lyon>",
            "Anticonstitutionnellement-remboursable",  # one word wider than the column
            "Première ligne\nseconde ligne",
        ],
    )
    @pytest.mark.parametrize("column", [1, 2])
    def test_breaks_lines_as_simple_split_does(self, value, column):
        font = fonts()
        width = COLUMN_POSITIONS[column + 1] - COLUMN_POSITIONS[column] - 2 * CELL_PADDING

        assert _wrapped(value, font.regular, 7.5, column) == simpleSplit(value, font.regular, 7.5, width)
