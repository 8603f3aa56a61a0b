import datetime as dt
from http import HTTPStatus

import pytest
from django.urls import reverse

from portail.accounts.models import Account
from portail.benefits.models import Payment, Statement
from portail.demo.account import demo_account_ensure


@pytest.mark.django_db
class TestDemoAccount:
    def test_anyone_opens_it_without_credentials_and_sees_payments(self, client):
        response = client.post(reverse("demo:account"))
        assert response["Location"] == reverse("accounts:home")
        page = client.get(reverse("benefits:payments")).content.decode()
        assert "Aucun paiement sur cette période." not in page
        assert client.get(reverse("benefits:statements")).status_code == HTTPStatus.OK

    def test_it_is_idempotent_and_kept_current(self):
        first = demo_account_ensure(today=dt.date(2026, 3, 20))
        payments = Payment.objects.count()
        assert payments > 0 and Statement.objects.filter(member=first.member).count() >= 5
        again = demo_account_ensure(today=dt.date(2026, 3, 20))
        assert again.pk == first.pk and Payment.objects.count() == payments
        demo_account_ensure(today=dt.date(2026, 6, 28))
        assert Payment.objects.filter(paid_on__month=6, paid_on__year=2026).exists()
        assert Account.objects.filter(is_demo=True).count() == 1

    @pytest.mark.parametrize(
        ("name", "data"),
        [
            ("accounts:terminate", {"current_code": "00000000"}),
            ("accounts:code_change", {"current_code": "1", "personal_code": "1", "personal_code_confirm": "1"}),
            ("accounts:email_change", {"email": "x@example.org"}),
        ],
    )
    def test_nothing_can_be_changed(self, client, name, data):
        client.post(reverse("demo:account"))
        response = client.post(reverse(name), data)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "consultation seulement" in response.content.decode()
        assert Account.objects.get(is_demo=True).status == "active"

    def test_logging_out_still_works(self, client):
        client.post(reverse("demo:account"))
        assert client.post(reverse("accounts:logout"))["Location"] == reverse("accounts:logged_out")

    def test_the_demo_account_cannot_log_in_with_a_code(self, client):
        account = demo_account_ensure()
        assert not account.user.has_usable_password()
