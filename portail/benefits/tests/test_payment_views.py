import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.db import connection
from django.forms.utils import RenderableMixin
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portail.accounts.tests.test_services import create_account
from portail.benefits.enums import ActNature, Payee
from portail.benefits.factories import PaymentFactory, PaymentLineFactory
from portail.benefits.views import PaymentFilterForm
from portail.registry.factories import BeneficiaryFactory, MemberFactory


@pytest.fixture
def member_client(client):
    account = create_account(MemberFactory())
    client.force_login(account.user)
    client.member = account.member
    return client


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


@pytest.mark.django_db
class TestPaymentsPage:
    def test_the_last_six_months_by_default_with_totals(self, member_client):
        member = member_client.member
        PaymentFactory(member=member, paid_on=days_ago(2), amount=Decimal("18.00"), external_id="RECENT")
        PaymentFactory(
            member=member, paid_on=days_ago(40), amount=Decimal("1234.50"), payee=Payee.PROFESSIONAL, external_id="P2"
        )
        PaymentFactory(member=member, paid_on=days_ago(400), amount=Decimal("99.00"), external_id="OLD")
        page = member_client.get(reverse("benefits:payments")).content.decode()
        assert "18,00\u00a0€" in page and "1\u00a0234,50\u00a0€" in page
        assert "99,00" not in page
        assert "1\u00a0252,50\u00a0€" in page  # total
        assert "2 paiements" in page

    def test_the_detailed_view_shows_each_act(self, member_client):
        payment = PaymentFactory(member=member_client.member, paid_on=days_ago(3), lines=0)
        PaymentLineFactory(
            payment=payment,
            nature=ActNature.PHARMACY,
            practitioner="Pharmacie des Tilleuls",
            base=Decimal("12.40"),
            rate=Decimal("65"),
            reimbursed=Decimal("8.06"),
            flat_fee=Decimal("0"),
            deductible=Decimal("0.50"),
        )
        summary = member_client.get(reverse("benefits:payments")).content.decode()
        assert "Pharmacie des Tilleuls" not in summary and "Pharmacie" in summary
        detailed = member_client.get(reverse("benefits:payments"), {"view": "detail"}).content.decode()
        for text in ["Pharmacie des Tilleuls", "12,40\u00a0€", "65\u00a0%", "8,06\u00a0€", "franchise"]:
            assert text in detailed
        assert 'href="?view=resume"' in detailed

    def test_filter_by_beneficiary_and_period(self, member_client):
        member = member_client.member
        child = BeneficiaryFactory(member=member, first_names="Léon")
        PaymentFactory(member=member, paid_on=days_ago(2), amount=Decimal("11.00"))
        PaymentFactory(member=member, beneficiary=child, paid_on=days_ago(2), amount=Decimal("22.00"))
        PaymentFactory(member=member, beneficiary=child, paid_on=days_ago(300), amount=Decimal("33.00"))
        page = member_client.get(reverse("benefits:payments"), {"beneficiary": child.pk}).content.decode()
        assert "22,00" in page and "11,00" not in page and "33,00" not in page
        start = (timezone.localdate() - dt.timedelta(days=330)).strftime("%Y-%m")
        page = member_client.get(reverse("benefits:payments"), {"beneficiary": child.pk, "start": start}).content
        assert "33,00" in page.decode()
        page = member_client.get(reverse("benefits:payments"), {"beneficiary": "assure"}).content.decode()
        assert "11,00" in page and "22,00" not in page

    def test_the_month_lists_show_the_period_shown(self, member_client):
        page = member_client.get(reverse("benefits:payments")).content.decode()
        today = timezone.localdate()
        start = (today.replace(day=1) - dt.timedelta(days=150)).replace(day=1)
        assert f'<option value="{start:%Y-%m}" selected>' in page  # 6 months, this one included
        assert f'<option value="{today:%Y-%m}" selected>' in page
        assert page.count(" selected>") == 3  # and "Toutes les personnes"

    def test_an_empty_period_says_so_plainly(self, member_client):
        page = member_client.get(reverse("benefits:payments")).content.decode()
        assert "Aucun paiement sur cette période." in page

    def test_another_members_beneficiary_is_refused_and_shows_nothing(self, member_client):
        other = BeneficiaryFactory()
        PaymentFactory(member=other.member, beneficiary=other, paid_on=days_ago(2), amount=Decimal("77.00"))
        response = member_client.get(reverse("benefits:payments"), {"beneficiary": other.pk})
        assert response.status_code == HTTPStatus.OK
        page = response.content.decode()
        assert "77,00" not in page and "Il y a un problème" in page

    def test_the_end_month_cannot_precede_the_start(self, member_client):
        today = timezone.localdate()
        start, end = today.strftime("%Y-%m"), (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        page = member_client.get(reverse("benefits:payments"), {"start": start, "end": end}).content.decode()
        assert "Le mois de fin doit être" in page

    @pytest.mark.parametrize("view", ["resume", "detail"])
    def test_queries_are_the_same_for_3_or_300_payments(self, member_client, django_assert_num_queries, view):
        member = member_client.member
        PaymentFactory.create_batch(3, member=member, paid_on=days_ago(1), lines=2)
        member_client.get(reverse("benefits:payments"))  # the first request after login writes the session
        with CaptureQueriesContext(connection) as few:
            member_client.get(reverse("benefits:payments"), {"view": view})
        PaymentFactory.create_batch(297, member=member, paid_on=days_ago(1), lines=2)
        with django_assert_num_queries(len(few.captured_queries)):
            response = member_client.get(reverse("benefits:payments"), {"view": view})
        assert response.content.decode().count("<tr") >= 300
        assert len(few.captured_queries) <= 6

    def test_what_the_claims_system_sent_is_escaped(self, member_client):
        beneficiary = BeneficiaryFactory(member=member_client.member, first_names="<b>Léa</b>")
        payment = PaymentFactory(member=member_client.member, beneficiary=beneficiary, paid_on=days_ago(3), lines=0)
        PaymentLineFactory(payment=payment, practitioner='Dr <script>alert("x")</script> & fils')
        for view in ("resume", "detail"):
            page = member_client.get(reverse("benefits:payments"), {"view": view}).content.decode()
            assert "<script>alert" not in page and "<b>Léa" not in page
            assert "&lt;b&gt;Léa&lt;/b&gt;" in page
        assert "Dr &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; fils" in page

    def test_each_payment_is_a_table_with_caption_headers_and_amount_paid(self, member_client):
        payment = PaymentFactory(
            member=member_client.member, paid_on=days_ago(3), amount=Decimal("19.00"), payee=Payee.MEMBER, lines=0
        )
        PaymentLineFactory(payment=payment, nature=ActNature.CONSULTATION, flat_fee=Decimal("2.00"))
        PaymentLineFactory(payment=payment, nature=ActNature.PHARMACY, flat_fee=Decimal("0"), deductible=Decimal("0"))
        page = member_client.get(reverse("benefits:payments"), {"view": "detail"}).content.decode()
        paid_on = f"{days_ago(3):%d/%m/%Y}"
        assert f"<caption>Paiement du {paid_on} : 19,00\u00a0€, versé à : Vous – vos soins</caption>" in page
        assert page.count('<th scope="col"') == 8
        assert '<th scope="row" colspan="7">Montant versé</th><td class="number"><strong>19,00\u00a0€' in page
        assert '−2,00\u00a0€ <span class="hint">(participation forfaitaire 2,00\u00a0€)</span>' in page
        assert page.count("<tbody><tr>") == 1 and page.count("</td></tr><tr><td>") == 1  # two acts, one table

    def test_the_filter_form_is_drawn_once_per_data_and_choices(self, member_client, monkeypatch):
        drawn = []
        draw = RenderableMixin.render

        def counting_draw(renderable, *args, **kwargs):
            if isinstance(renderable, PaymentFilterForm):
                drawn.append(dict(renderable.data))
            return draw(renderable, *args, **kwargs)

        monkeypatch.setattr(RenderableMixin, "render", counting_draw)
        url = reverse("benefits:payments")
        member_client.get(url, {"view": "detail"})
        member_client.get(url, {"view": "detail"})
        assert len(drawn) == 1
        BeneficiaryFactory(member=member_client.member, first_names="Jade", last_name="Roux")
        assert "Jade Roux" in member_client.get(url, {"view": "detail"}).content.decode()  # new choice, new markup
        assert len(drawn) == 2
        for _ in range(2):
            refused = member_client.get(url, {"start": "1999-01"}).content.decode()
            assert "Sélectionnez un choix valide" in refused
        assert len(drawn) == 4  # a form with errors is drawn afresh every time
        english = member_client.get(url, {"view": "detail"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert len(drawn) == 5 and "Toutes les personnes" not in english


@pytest.mark.django_db
class TestDoctorPage:
    def test_the_declared_doctor_and_since_when(self, client):
        account = create_account(MemberFactory(doctor_name="Dr Anne Morel", doctor_since=dt.date(2021, 9, 14)))
        client.force_login(account.user)
        page = client.get(reverse("benefits:doctor")).content.decode()
        assert "Dr Anne Morel" in page and "14/09/2021" in page

    def test_none_declared_explains_how(self, client):
        account = create_account(MemberFactory())
        client.force_login(account.user)
        page = client.get(reverse("benefits:doctor")).content.decode()
        assert "Aucun médecin traitant n'est déclaré" in page and "Comment le déclarer" in page

    def test_pages_need_a_member(self, client):
        assert client.get(reverse("benefits:doctor"))["Location"].startswith(reverse("public:member_space"))
