"""No member reaches another member's data by changing an id in a URL or a form."""

from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse

from portail.accounts.tests.test_services import create_account
from portail.benefits.factories import PaymentFactory, StatementFactory
from portail.benefits.models import DuplicateRequest
from portail.post.factories import LetterFactory
from portail.registry.factories import BeneficiaryFactory, MemberFactory


@pytest.fixture
def intruder(client):
    account = create_account(MemberFactory())
    client.force_login(account.user)
    return client


@pytest.mark.django_db
class TestAnotherMembersData:
    @pytest.mark.parametrize("name", ["benefits:statement", "benefits:statement_pdf"])
    def test_a_statement_id_gives_404(self, intruder, name):
        statement = StatementFactory()
        assert intruder.get(reverse(name, args=[statement.pk])).status_code == HTTPStatus.NOT_FOUND

    def test_a_duplicate_of_someone_elses_statement_gives_404_and_sends_nothing(self, intruder):
        statement = StatementFactory()
        response = intruder.post(reverse("benefits:statement_duplicate", args=[statement.pk]))
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert not DuplicateRequest.objects.exists()

    def test_a_beneficiary_id_in_the_payments_filter_shows_nothing(self, intruder):
        beneficiary = BeneficiaryFactory()
        PaymentFactory(member=beneficiary.member, beneficiary=beneficiary, amount=Decimal("77.70"))
        page = intruder.get(reverse("benefits:payments"), {"beneficiary": beneficiary.pk}).content.decode()
        assert "77,70" not in page

    def test_letters_are_not_reachable_outside_the_demo_letterbox(self, intruder, settings):
        settings.PORTAIL_DEMO = False
        letter = LetterFactory()
        assert intruder.get(reverse("demo:letter_pdf", args=[letter.pk])).status_code == HTTPStatus.NOT_FOUND
