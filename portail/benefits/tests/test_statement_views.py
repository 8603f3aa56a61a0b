import datetime as dt
import html
import io
import re
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from portail.accounts.tests.test_services import create_account
from portail.benefits.factories import PaymentFactory, PaymentLineFactory, StatementFactory
from portail.benefits.models import DuplicateRequest, Statement
from portail.benefits.statements import statements_close_month
from portail.post.enums import LetterKind
from portail.post.models import Letter
from portail.registry.factories import BeneficiaryFactory, MemberFactory

TODAY = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)
MARCH = dt.date(2026, 3, 1)
# "1 234,56 €" with any kind of space, and dd/mm/yyyy.
AMOUNT = re.compile(r"-?\d{1,3}(?:\s\d{3})*,\d{2}\s€")
DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


def squeeze(value: str) -> str:
    """Every run of white space (no-break spaces too) made one plain space."""
    return " ".join(value.split())


def main_text(response) -> str:
    """The text of the page's main content (between <main> and </main>), tags removed."""
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    return squeeze(html.unescape(re.sub(r"<[^>]+>", " ", main)))


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member():
    return MemberFactory(address_line1="3 place du Marché", address_line2="", postal_code="35000", city="Rennes")


@pytest.fixture
def logged_in(client, member):
    account = create_account(member)
    client.force_login(account.user)
    return client


def march_payments(member, count, *, lines=1):
    child = BeneficiaryFactory(member=member, first_names="Zoé")
    for index in range(count):
        payment = PaymentFactory(
            member=member,
            paid_on=dt.date(2026, 3, 1 + index % 28),
            amount=Decimal("1234.56") if index == 0 else Decimal("17.25") + index,
            beneficiary=child if index % 3 == 1 else None,
            lines=0,
        )
        for line in range(lines):
            PaymentLineFactory(
                payment=payment,
                care_date=dt.date(2026, 2, 1 + (index + line) % 28),
                amount_charged=Decimal("1300.00") if index == 0 else Decimal("25.00") + line,
                base=Decimal("26.50"),
                rate=Decimal("70.00"),
                reimbursed=Decimal("1236.56") if index == 0 else Decimal("18.55"),
                flat_fee=Decimal("2.00"),
            )


def close_march():
    statements_close_month(month=MARCH, now=TODAY)


def march_statement(member, count=3, lines=2) -> Statement:
    march_payments(member, count, lines=lines)
    close_march()
    return Statement.objects.get(member=member, month=MARCH)


@pytest.mark.django_db
class TestStatementList:
    def test_lists_statements_newest_first_with_month_in_words_count_total_and_links(self, logged_in, member):
        statement = march_statement(member)
        older = StatementFactory(
            member=member, month=dt.date(2026, 1, 1), payment_count=2, total_paid=Decimal("40.10")
        )

        response = logged_in.get(reverse("benefits:statements"))

        assert response.status_code == HTTPStatus.OK
        text = main_text(response)
        assert text.index("mars 2026") < text.index("janvier 2026")
        assert "1 272,06 €" in text  # 1 234,56 + 18,25 + 19,25
        assert "40,10 €" in text
        content = response.content.decode()
        assert reverse("benefits:statement", args=[statement.pk]) in content
        assert reverse("benefits:statement_pdf", args=[older.pk]) in content
        assert re.search(r"Télécharger le PDF \(\d+ Ko\)", text)
        assert text.count("Lire le relevé") == 2
        assert content.count("<h1") == 1
        assert "<caption>" in content

    def test_empty_state_says_when_the_first_statement_comes(self, logged_in):
        response = logged_in.get(reverse("benefits:statements"))
        text = main_text(response)
        assert "Vous n'avez pas encore de relevé" in text
        assert "au début du mois qui suit votre premier remboursement" in text
        assert "<table" not in response.content.decode()

    def test_another_members_statements_are_not_listed(self, logged_in):
        StatementFactory(month=MARCH, total_paid=Decimal("77.77"))
        assert "77,77" not in main_text(logged_in.get(reverse("benefits:statements")))

    def test_statements_older_than_the_keep_window_are_not_listed(self, logged_in, member, settings):
        settings.PORTAIL_STATEMENTS_KEEP_MONTHS = 24
        StatementFactory(member=member, month=dt.date(2024, 4, 1), total_paid=Decimal("11.11"))
        StatementFactory(member=member, month=dt.date(2024, 3, 1), total_paid=Decimal("22.22"))
        text = main_text(logged_in.get(reverse("benefits:statements")))
        assert "11,11 €" in text
        assert "22,22 €" not in text

    def test_needs_a_logged_in_member(self, client):
        response = client.get(reverse("benefits:statements"))
        assert response.status_code == HTTPStatus.FOUND


@pytest.mark.django_db
class TestStatementPage:
    def test_shows_member_masked_nir_and_every_act(self, logged_in, member):
        statement = march_statement(member, count=3, lines=2)

        response = logged_in.get(reverse("benefits:statement", args=[statement.pk]))

        assert response.status_code == HTTPStatus.OK
        content = response.content.decode()
        text = main_text(response)
        assert content.count("<h1") == 1
        assert "Relevé de mars 2026" in text
        assert member.nir_masked in text
        assert member.nir not in content
        assert member.last_name.upper() in text
        assert "soins de : Zoé" in text
        assert "versés à : Vous" in text
        assert "1 236,56 €" in text and "70 %" in text
        assert content.count('scope="rowgroup"') == 3
        assert "<tfoot>" in content and "<caption>" in content
        assert "Total versé en mars 2026 (3 paiements)" in text
        assert "Recevoir ce relevé par courrier (duplicata)" in text
        assert "3 place du Marché" in text

    def test_the_pdf_says_what_the_page_says(self, logged_in, member):
        statement = march_statement(member, count=14, lines=2)
        page = main_text(logged_in.get(reverse("benefits:statement", args=[statement.pk])))
        response = logged_in.get(reverse("benefits:statement_pdf", args=[statement.pk]))
        pdf = squeeze(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages))

        amounts, dates = set(AMOUNT.findall(page)), set(DATE.findall(page))
        assert len(amounts) >= 5 and len(dates) >= 10
        for value in sorted(amounts | dates):
            assert value in pdf, value
        assert set(AMOUNT.findall(pdf)) == amounts
        assert "Page 1 sur 2" in pdf and "Page 2 sur 2" in pdf

    def test_query_count_does_not_grow_with_the_payments(self, logged_in, member, django_assert_num_queries):
        few = march_statement(member, count=3, lines=1)
        many = StatementFactory(member=member, month=dt.date(2026, 2, 1))
        for index in range(30):
            PaymentFactory(member=member, paid_on=dt.date(2026, 2, 1 + index % 28), lines=2)

        logged_in.get(reverse("benefits:statement", args=[few.pk]))  # the first request of a session costs more
        with CaptureQueriesContext(connection) as three:
            assert logged_in.get(reverse("benefits:statement", args=[few.pk])).status_code == HTTPStatus.OK
        with django_assert_num_queries(len(three.captured_queries)):
            response = logged_in.get(reverse("benefits:statement", args=[many.pk]))
        assert response.content.decode().count('scope="rowgroup"') == 30


@pytest.mark.django_db
class TestStatementPdf:
    def test_downloads_an_a4_pdf_named_after_the_month(self, logged_in, member):
        statement = march_statement(member)

        response = logged_in.get(reverse("benefits:statement_pdf", args=[statement.pk]))

        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="releve-2026-03.pdf"'
        reader = PdfReader(io.BytesIO(response.content))
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)
        text = squeeze(reader.pages[0].extract_text())
        assert "Relevé mensuel de vos remboursements : mars 2026" in text
        assert "3 place du Marché" in text and "35000 RENNES" in text
        assert member.nir not in text.replace(" ", "")

    def test_the_list_shows_the_size_of_the_pdf(self, logged_in, member):
        statement = march_statement(member)
        size = len(logged_in.get(reverse("benefits:statement_pdf", args=[statement.pk])).content)
        text = main_text(logged_in.get(reverse("benefits:statements")))
        assert f"Télécharger le PDF ({-(-size // 1024)} Ko)" in text


@pytest.mark.django_db
class TestDuplicate:
    def test_post_sends_a_duplicate_and_says_when_and_where(self, logged_in, member):
        statement = march_statement(member)

        response = logged_in.post(reverse("benefits:statement_duplicate", args=[statement.pk]), follow=True)

        assert response.redirect_chain[-1][0] == reverse("benefits:statement", args=[statement.pk])
        duplicate = DuplicateRequest.objects.get()
        assert duplicate.statement == statement
        assert Letter.objects.filter(kind=LetterKind.STATEMENT_DUPLICATE, member=member).count() == 1
        text = main_text(response)
        assert "le duplicata de votre relevé de mars 2026 part par courrier" in text
        assert "sous 7 à 12 jours, à l'adresse : 3 place du Marché, 35000 Rennes" in text

    def test_past_the_limit_a_polite_message_with_the_date(self, logged_in, member, settings):
        settings.PORTAIL_DUPLICATES_PER_30_DAYS = 1
        statement = march_statement(member)
        url = reverse("benefits:statement_duplicate", args=[statement.pk])
        logged_in.post(url)

        response = logged_in.post(url, follow=True)

        assert response.status_code == HTTPStatus.OK
        assert DuplicateRequest.objects.count() == 1
        assert "Vous pourrez en demander un nouveau à partir du 10/05/2026" in main_text(response)

    def test_get_is_not_allowed(self, logged_in, member):
        statement = march_statement(member)
        response = logged_in.get(reverse("benefits:statement_duplicate", args=[statement.pk]))
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert not DuplicateRequest.objects.exists()


@pytest.mark.django_db
class TestSomeoneElsesStatement:
    @pytest.mark.parametrize(
        ("name", "method"),
        [("benefits:statement", "get"), ("benefits:statement_pdf", "get"), ("benefits:statement_duplicate", "post")],
    )
    def test_another_members_statement_is_not_found(self, logged_in, name, method):
        stranger = MemberFactory()
        statement = march_statement(stranger)

        response = getattr(logged_in, method)(reverse(name, args=[statement.pk]))

        assert response.status_code == HTTPStatus.NOT_FOUND
        assert not DuplicateRequest.objects.exists()

    @pytest.mark.parametrize(
        ("name", "method"),
        [("benefits:statement", "get"), ("benefits:statement_pdf", "get"), ("benefits:statement_duplicate", "post")],
    )
    def test_a_statement_older_than_the_keep_window_is_not_found(self, logged_in, member, settings, name, method):
        settings.PORTAIL_STATEMENTS_KEEP_MONTHS = 24
        kept = StatementFactory(member=member, month=dt.date(2024, 4, 1))
        gone = StatementFactory(member=member, month=dt.date(2024, 3, 1))

        assert getattr(logged_in, method)(reverse(name, args=[gone.pk])).status_code == HTTPStatus.NOT_FOUND
        assert getattr(logged_in, method)(reverse(name, args=[kept.pk])).status_code in {
            HTTPStatus.OK,
            HTTPStatus.FOUND,
        }
