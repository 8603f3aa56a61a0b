import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from portail.accounts.tests.test_services import create_account
from portail.benefits.enums import StatementDelivery
from portail.benefits.factories import PaymentFactory, PaymentLineFactory, StatementFactory
from portail.benefits.models import DuplicateRequest, Statement
from portail.benefits.statements import (
    DuplicateLimitReached,
    MonthNotOver,
    statement_detail,
    statement_duplicate_request,
    statements_close_month,
)
from portail.benefits.templatetags.money import format_money, format_rate
from portail.post.enums import EmailKind, LetterKind, LetterStatus
from portail.post.letters import renderer_for
from portail.post.models import Email, Letter
from portail.post.services import letter_render
from portail.registry.enums import Sex
from portail.registry.factories import BeneficiaryFactory, MemberFactory

MARCH = dt.date(2026, 3, 1)
NOW = dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.UTC)


def pdf_text(data: bytes) -> str:
    """The text of every page, each run of white space (no-break spaces too) made one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def pay(member, day, amount="18.50", lines=1, **kwargs):
    return PaymentFactory(member=member, paid_on=day, amount=Decimal(amount), lines=lines, **kwargs)


def with_verified_email(member, email="assure@example.org"):
    account = create_account(member)
    account.email, account.email_verified_at = email, NOW
    account.save()
    return account


def statement_letters(kind=LetterKind.MONTHLY_STATEMENT):
    return Letter.objects.filter(kind=kind)


class TestMoney:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (Decimal("0"), "0,00\u00a0€"),
            (Decimal("18.5"), "18,50\u00a0€"),
            (Decimal("999.99"), "999,99\u00a0€"),
            (Decimal("1234.56"), "1\u00a0234,56\u00a0€"),
            (Decimal("1234567.005"), "1\u00a0234\u00a0567,01\u00a0€"),
            (Decimal("-2.00"), "-2,00\u00a0€"),
            ("42", "42,00\u00a0€"),
            (None, ""),
        ],
    )
    def test_money(self, value, expected):
        assert format_money(value) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(Decimal("70.00"), "70\u00a0%"), (Decimal("100"), "100\u00a0%"), (Decimal("65.50"), "65,5\u00a0%")],
    )
    def test_rate(self, value, expected):
        assert format_rate(value) == expected


@pytest.mark.django_db
class TestCloseMonth:
    def test_one_statement_per_member_paid_that_month_with_count_and_total(self):
        first, second, april_only = MemberFactory(), MemberFactory(), MemberFactory()
        pay(first, dt.date(2026, 3, 1), "10.00")
        pay(first, dt.date(2026, 3, 31), "1200.05", lines=3)
        pay(first, dt.date(2026, 2, 28), "99.00")  # February: not in March's statement
        pay(second, dt.date(2026, 3, 15), "7.30")
        pay(april_only, dt.date(2026, 4, 1), "5.00")

        result = statements_close_month(month=MARCH, now=NOW)

        assert (result.members_with_payments, result.statements_created, result.already_closed) == (2, 2, 0)
        statements = {statement.member_id: statement for statement in Statement.objects.filter(month=MARCH)}
        assert set(statements) == {first.pk, second.pk}
        assert (statements[first.pk].payment_count, statements[first.pk].total_paid) == (2, Decimal("1210.05"))
        assert (statements[second.pk].payment_count, statements[second.pk].total_paid) == (1, Decimal("7.30"))
        assert not Statement.objects.filter(member=april_only).exists()

    def test_any_day_of_the_month_closes_that_month(self):
        pay(MemberFactory(), dt.date(2026, 3, 10))
        assert statements_close_month(month=dt.date(2026, 3, 17), now=NOW).month == MARCH
        assert Statement.objects.get().month == MARCH

    def test_running_it_again_creates_and_sends_nothing(self, django_capture_on_commit_callbacks):
        online, on_paper = MemberFactory(), MemberFactory()
        with_verified_email(online)
        pay(online, dt.date(2026, 3, 3))
        pay(on_paper, dt.date(2026, 3, 4))
        statements_close_month(month=MARCH, now=NOW)
        counts = (Statement.objects.count(), statement_letters().count(), Email.objects.count())
        assert counts == (2, 1, 1)

        with django_capture_on_commit_callbacks() as callbacks:
            again = statements_close_month(month=MARCH, now=NOW)

        assert (again.statements_created, again.already_closed, again.letters, again.emails) == (0, 2, 0, 0)
        assert (Statement.objects.count(), statement_letters().count(), Email.objects.count()) == counts
        assert callbacks == []

    def test_small_batches_give_the_same_result(self):
        members = [MemberFactory() for _ in range(5)]
        for member in members:
            pay(member, dt.date(2026, 3, 9))
        StatementFactory(member=members[2], month=MARCH)  # one already built

        result = statements_close_month(month=MARCH, now=NOW, batch_size=2)

        assert (result.members_with_payments, result.statements_created, result.already_closed) == (5, 4, 1)
        assert Statement.objects.filter(month=MARCH).count() == 5

    def test_no_active_account_means_paper(self, django_capture_on_commit_callbacks):
        member = MemberFactory()
        pay(member, dt.date(2026, 3, 3))

        with django_capture_on_commit_callbacks(execute=True):
            result = statements_close_month(month=MARCH, now=NOW)

        statement = Statement.objects.get()
        assert statement.delivery == StatementDelivery.POST
        letter = statement_letters().get()
        assert statement.letter == letter
        assert letter.member == member
        assert letter.context == {"statement_id": statement.pk, "month": "2026-03"}
        assert letter.status == LetterStatus.RENDERED
        assert (result.letters, result.emails) == (1, 0)
        assert not Email.objects.exists()

    def test_statements_to_a_complementary_insurer_go_on_paper_even_with_an_account(self):
        member = MemberFactory(statements_to_complementary=True)
        with_verified_email(member)
        pay(member, dt.date(2026, 3, 3))

        statements_close_month(month=MARCH, now=NOW)

        assert Statement.objects.get().delivery == StatementDelivery.POST
        assert statement_letters().count() == 1
        assert not Email.objects.filter(kind=EmailKind.STATEMENT_AVAILABLE).exists()

    def test_active_account_with_verified_email_gets_it_online_and_an_email(self, settings):
        settings.PORTAIL_BASE_URL = "https://portail.example"
        member = MemberFactory()
        with_verified_email(member, "lea.martin@example.org")
        pay(member, dt.date(2026, 3, 3), "1234.56")

        statements_close_month(month=MARCH, now=NOW)

        statement = Statement.objects.get()
        assert statement.delivery == StatementDelivery.ONLINE
        assert statement.letter is None
        assert not statement_letters().exists()
        email = Email.objects.get(kind=EmailKind.STATEMENT_AVAILABLE)
        assert email.to == "lea.martin@example.org"
        assert email.member == member
        assert "mars 2026" in email.subject
        assert "https://portail.example/mon-compte/releves/" in email.body
        for secret in (member.nir, "1234", "€"):
            assert secret not in email.body and secret not in email.subject

    def test_active_account_without_verified_email_gets_it_online_only(self):
        member = MemberFactory()
        create_account(member)
        pay(member, dt.date(2026, 3, 3))

        result = statements_close_month(month=MARCH, now=NOW)

        assert Statement.objects.get().delivery == StatementDelivery.ONLINE
        assert (result.letters, result.emails) == (0, 0)
        assert not Email.objects.filter(kind=EmailKind.STATEMENT_AVAILABLE).exists()

    @pytest.mark.parametrize("month", [dt.date(2026, 4, 1), dt.date(2026, 4, 30), dt.date(2026, 5, 1)])
    def test_refuses_the_current_or_a_future_month(self, month):
        pay(MemberFactory(), dt.date(2026, 4, 1))
        with pytest.raises(MonthNotOver):
            statements_close_month(month=month, now=NOW)
        assert not Statement.objects.exists()

    def test_the_month_is_over_in_the_funds_time_zone(self):
        pay(MemberFactory(), dt.date(2026, 3, 31))
        # 31 March, 22:30 UTC is already 1 April in Paris.
        result = statements_close_month(month=MARCH, now=dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC))
        assert result.statements_created == 1


@pytest.mark.django_db
class TestCommands:
    def test_close_month_prints_counts_in_french(self):
        pay(MemberFactory(), dt.date(2026, 3, 3))
        output = io.StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("close_month", "2026-03", stdout=output)
            call_command("close_month", "2026-03", stdout=output)
        lines = output.getvalue().splitlines()
        assert "Relevés de mars 2026 : 1 assurés avec des paiements, 1 relevés établis" in lines[0]
        assert "0 relevés établis" in lines[1] and "1 déjà établis" in lines[1]
        assert Statement.objects.count() == 1

    @pytest.mark.parametrize("month", ["2026-04", "2027-01"])
    def test_close_month_refuses_a_month_not_over(self, month):
        with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match="pas terminé"):
            call_command("close_month", month)

    @pytest.mark.parametrize("month", ["2026-13", "mars", "2026/03"])
    def test_close_month_refuses_a_malformed_month(self, month):
        with pytest.raises(CommandError, match="AAAA-MM"):
            call_command("close_month", month)

    def test_scheduler_once_closes_the_previous_month(self):
        member = MemberFactory()
        pay(member, dt.date(2026, 3, 30))
        pay(member, dt.date(2026, 4, 1))
        output = io.StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("scheduler", "--once", stdout=output)
            call_command("scheduler", "--once", stdout=io.StringIO())
        assert list(Statement.objects.values_list("month", flat=True)) == [MARCH]
        assert "Relevés de mars 2026" in output.getvalue()
        assert "Planificateur arrêté." in output.getvalue()

    def test_scheduler_stops_on_sigterm(self):
        import os
        import signal
        import threading
        import time

        before = signal.getsignal(signal.SIGTERM)

        def terminate_once_the_scheduler_listens():
            for _ in range(500):
                if signal.getsignal(signal.SIGTERM) != before:
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)  # never listened: fail loudly rather than hang

        output = io.StringIO()
        sender = threading.Thread(target=terminate_once_the_scheduler_listens)
        sender.start()
        call_command("scheduler", "--interval", "600", stdout=output)
        sender.join()
        assert "Planificateur arrêté." in output.getvalue()
        assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.django_db
class TestDuplicateRequest:
    def test_creates_a_request_and_a_letter_to_the_address_on_file(self):
        statement = StatementFactory(month=MARCH)
        with time_machine.travel(NOW, tick=False):
            duplicate = statement_duplicate_request(statement=statement, now=NOW)
        assert duplicate.statement == statement
        assert duplicate.letter.kind == LetterKind.STATEMENT_DUPLICATE
        assert duplicate.letter.member == statement.member
        assert duplicate.letter.context == {"statement_id": statement.pk, "month": "2026-03"}
        assert duplicate.letter.recipient_postal_code == statement.member.postal_code

    def test_past_the_limit_says_when_it_becomes_possible_again(self, settings):
        settings.PORTAIL_DUPLICATES_PER_30_DAYS = 2
        statement = StatementFactory(month=MARCH)
        other = StatementFactory(member=statement.member, month=dt.date(2026, 2, 1))
        first = dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.UTC)
        with time_machine.travel(first, tick=False):
            statement_duplicate_request(statement=statement, now=first)
        with time_machine.travel(first + dt.timedelta(days=3), tick=False):
            statement_duplicate_request(statement=other, now=first + dt.timedelta(days=3))
        later = first + dt.timedelta(days=10)
        with time_machine.travel(later, tick=False), pytest.raises(DuplicateLimitReached) as refused:
            statement_duplicate_request(statement=statement, now=later)
        assert refused.value.available_on == dt.date(2026, 5, 2)
        assert DuplicateRequest.objects.count() == 2
        again = first + dt.timedelta(days=30, minutes=1)
        with time_machine.travel(again, tick=False):
            statement_duplicate_request(statement=statement, now=again)
        assert DuplicateRequest.objects.count() == 3

    def test_another_members_requests_do_not_count(self, settings):
        settings.PORTAIL_DUPLICATES_PER_30_DAYS = 1
        statement, stranger = StatementFactory(month=MARCH), StatementFactory(month=MARCH)
        with time_machine.travel(NOW, tick=False):
            statement_duplicate_request(statement=stranger, now=NOW)
            statement_duplicate_request(statement=statement, now=NOW)
        assert DuplicateRequest.objects.count() == 2


@pytest.fixture
def member():
    return MemberFactory(
        sex=Sex.FEMALE,
        first_names="Amélie Jeanne",
        last_name="Dupont-Léger",
        address_line1="12 rue de l'Église",
        address_line2="Bâtiment B",
        postal_code="69007",
        city="Lyon",
    )


def march_statement(member, payments=2, lines=2):
    child = BeneficiaryFactory(member=member, first_names="Lucas")
    for index in range(payments):
        payment = PaymentFactory(
            member=member,
            paid_on=dt.date(2026, 3, 2 + index % 27),
            amount=Decimal("1234.56") if index == 0 else Decimal("21.40"),
            beneficiary=child if index == 1 else None,
            lines=0,
        )
        for line in range(lines):
            PaymentLineFactory(
                payment=payment,
                care_date=dt.date(2026, 2, 20 + line),
                practitioner=f"Dr Praticien {index}-{line}",
                amount_charged=Decimal("1500.00") if index == 0 else Decimal("26.50"),
                reimbursed=Decimal("1236.56") if index == 0 else Decimal("18.55"),
                rate=Decimal("70.00"),
            )
    statements_close_month(month=MARCH, now=NOW)
    return Statement.objects.get(member=member, month=MARCH)


@pytest.mark.django_db
class TestStatementLetters:
    def test_monthly_statement_letter_holds_the_address_and_the_amounts(self, member):
        statement = march_statement(member)
        letter = letter_render(letter_id=statement.letter_id)

        text = pdf_text(letter.pdf_file.read_bytes())

        for line in ["Madame Amélie DUPONT-LÉGER", "12 rue de l'Église", "Bâtiment B", "69007 LYON"]:
            assert line in text
        assert "Relevé mensuel de vos remboursements : mars 2026" in text
        for amount in ["1 234,56 €", "21,40 €", "1 500,00 €", "26,50 €", "1 236,56 €", "18,55 €", "70 %"]:
            assert amount in text
        assert "Total versé en mars 2026 (2 paiements) 1 255,96 €" in text
        assert "soins de : Lucas" in text
        assert member.nir_masked in text
        assert member.nir not in text.replace(" ", "")
        assert f"Référence du courrier : {letter.pk}" in text
        assert "DUPLICATA" not in text
        assert "Page 1 sur 1" in text
        assert letter.page_count == 1

    def test_duplicate_letter_is_marked_duplicata(self, member):
        statement = march_statement(member)
        with time_machine.travel(NOW, tick=False):
            duplicate = statement_duplicate_request(statement=statement, now=NOW)
        letter = letter_render(letter_id=duplicate.letter_id)

        text = pdf_text(letter.pdf_file.read_bytes())

        assert "DUPLICATA – Relevé mensuel de vos remboursements : mars 2026" in text
        assert "69007 LYON" in text and "1 234,56 €" in text
        assert member.nir not in text.replace(" ", "")

    def test_a_long_statement_runs_over_several_pages_with_the_header_repeated(self, member):
        statement = march_statement(member, payments=30, lines=2)
        letter = statement.letter

        data, pages = renderer_for(letter.kind).render(letter)

        assert pages >= 2
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) == pages
        for number, page in enumerate(reader.pages, start=1):
            page_text = " ".join(page.extract_text().split())
            assert f"Page {number} sur {pages}" in page_text
            assert "Date des soins" in page_text  # the table's header row, on every page
        assert "Madame Amélie DUPONT-LÉGER" not in " ".join(reader.pages[1].extract_text().split())

    def test_refuses_a_letter_without_statement_or_month(self, member):
        renderer = renderer_for(LetterKind.MONTHLY_STATEMENT)
        for context in ({"month": "2026-03"}, {"statement_id": 1, "month": "03/2026"}, {"statement_id": "1"}):
            with pytest.raises(ValueError):
                renderer.check(context=context, secret_context={})


@pytest.mark.django_db
class TestStatementDetail:
    def test_reads_in_three_queries_whatever_the_number_of_payments(self, member, django_assert_num_queries):
        statement = march_statement(member, payments=12, lines=2)
        statement = Statement.objects.select_related("member").get(pk=statement.pk)
        with django_assert_num_queries(2):  # payments with their beneficiary, then their acts
            detail = statement_detail(statement=statement)
        assert len(detail.groups) == 12
        assert sum(len(group.lines) for group in detail.groups) == 24
        assert detail.total_paid == statement.total_paid
