import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from portail.registry.enums import Scheme, Sex
from portail.registry.factories import BeneficiaryFactory, FundFactory, MemberFactory
from portail.registry.models import Member
from portail.registry.services import MemberData, members_upsert

NIR = "253072B073004"  # key 70


@pytest.mark.django_db
class TestMemberQuerySet:
    @pytest.mark.parametrize("typed", ["253072B073004", "2 53 07 2b 073 004 70", "2.53.07.2B.073.004"])
    def test_with_nir_parses(self, typed):
        member = MemberFactory(nir=NIR, sex=Sex.FEMALE, birth_date=datetime.date(1953, 7, 2))
        MemberFactory()
        assert list(Member.objects.with_nir(typed)) == [member]

    @pytest.mark.parametrize("typed", ["", "253072B07300471", "not a number"])
    def test_with_invalid_nir_matches_nobody(self, typed):
        MemberFactory(nir=NIR)
        assert not Member.objects.with_nir(typed).exists()

    def test_eligible(self):
        eligible = MemberFactory()
        MemberFactory(ineligible=True)
        MemberFactory(scheme=Scheme.AGRICULTURAL)
        assert list(Member.objects.eligible()) == [eligible]

    @pytest.mark.parametrize("text", ["lefèvre", "Camille LEF", "2 53 07 2B 073 004 70"])
    def test_search(self, text):
        member = MemberFactory(nir=NIR, last_name="Lefèvre", first_names="Camille Anne")
        MemberFactory(last_name="Martin", first_names="Paul")
        assert list(Member.objects.search(text)) == [member]


@pytest.mark.django_db
class TestMember:
    def test_nir_forms(self):
        member = MemberFactory(nir=NIR)
        assert (member.nir_formatted, member.nir_masked) == ("2 53 07 2B 073 004 70", "*** 470")
        assert "073" not in str(member)

    @pytest.mark.parametrize(("scheme", "eligible"), [(scheme, scheme == Scheme.GENERAL) for scheme in Scheme])
    def test_is_eligible(self, scheme, eligible):
        assert MemberFactory.build(scheme=scheme).is_eligible is eligible

    def test_beneficiaries(self):
        member = MemberFactory()
        child = BeneficiaryFactory(member=member)
        assert list(member.beneficiaries.all()) == [child]
        assert child.last_name == member.last_name


def member_data(nir: str, **overrides) -> MemberData:
    values = {
        "nir": nir,
        "last_name": "Santoni",
        "first_names": "Jean-Baptiste",
        "birth_date": datetime.date(1972, 11, 5),
        "sex": Sex.MALE,
        "address_line1": "4 boulevard Longchamp",
        "postal_code": "13001",
        "city": "Marseille",
    }
    return MemberData(**(values | overrides))


@pytest.mark.django_db
class TestMembersUpsert:
    def test_counts(self):
        fund = FundFactory()
        first = members_upsert(members=[member_data("172112A979884"), member_data("1721175123456")], fund=fund)
        assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
        second = members_upsert(
            members=[member_data("172112A979884"), member_data("1721175123456", city="Aix-en-Provence")], fund=fund
        )
        assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
        assert Member.objects.get(nir="1721175123456").city == "Aix-en-Provence"

    def test_distinct_nirs_are_required(self):
        with pytest.raises(ValueError, match="distinct NIRs"):
            members_upsert(members=[member_data("172112A979884")] * 2, fund=FundFactory())


@pytest.mark.django_db
class TestMemberAdmin:
    def test_list_shows_masked_nir_only(self, admin_client):
        MemberFactory(nir=NIR, last_name="Lefèvre")
        response = admin_client.get(reverse("admin:registry_member_changelist"))
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert "*** 470" in html
        assert NIR not in html
        assert "Lefèvre" in html

    @pytest.mark.parametrize(
        ("query", "found"), [("lefèvre", True), ("2 53 07 2B 073 004 70", True), ("Dupont", False)]
    )
    def test_search(self, admin_client, query, found):
        MemberFactory(nir=NIR, last_name="Lefèvre")
        # A name Faker's generated cities and streets cannot contain, so the check cannot be fooled.
        MemberFactory(last_name="Quatremarezk")
        response = admin_client.get(reverse("admin:registry_member_changelist"), {"q": query})
        html = response.content.decode()
        assert ("*** 470" in html) is found
        assert "Quatremarezk" not in html

    def test_change_page(self, admin_client):
        member = MemberFactory(nir=NIR)
        BeneficiaryFactory(member=member)
        response = admin_client.get(reverse("admin:registry_member_change", args=[member.pk]))
        assert response.status_code == HTTPStatus.OK

    @pytest.mark.parametrize("name", ["fund", "beneficiary", "importrun"])
    def test_other_lists(self, admin_client, name):
        BeneficiaryFactory()
        response = admin_client.get(reverse(f"admin:registry_{name}_changelist"))
        assert response.status_code == HTTPStatus.OK
        assert NIR not in response.content.decode()
