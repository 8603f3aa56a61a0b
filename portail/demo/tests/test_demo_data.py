import time

import pytest
from django.core.management import call_command

from portail.demo.services import DEMO_FUND_CODE, DEMO_IDENTITIES, DEMO_MEMBER_COUNT, demo_data_load
from portail.registry.enums import Scheme
from portail.registry.models import Beneficiary, Member


@pytest.mark.django_db
class TestDemoDataLoad:
    def test_register(self):
        result = demo_data_load()
        members = Member.objects.filter(fund__code=DEMO_FUND_CODE)
        assert members.count() == DEMO_MEMBER_COUNT == result.member_count
        assert result.counts.created == DEMO_MEMBER_COUNT
        assert 1 <= members.exclude(scheme=Scheme.GENERAL).count() <= 2
        assert members.exclude(doctor_name="").count() > DEMO_MEMBER_COUNT / 2
        assert 1 <= members.filter(statements_to_complementary=True).count() < DEMO_MEMBER_COUNT / 5
        assert Beneficiary.objects.values("member").distinct().count() > 5
        for member in members:
            member.full_clean()
            assert member.nir_parsed.agrees_with(sex=member.sex, birth_date=member.birth_date)

    def test_idempotent(self):
        demo_data_load()
        before = list(Member.objects.order_by("nir").values())
        beneficiaries = list(Beneficiary.objects.order_by("pk").values())
        result = demo_data_load()
        assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (0, 0, DEMO_MEMBER_COUNT)
        assert list(Member.objects.order_by("nir").values()) == before
        assert list(Beneficiary.objects.order_by("pk").values()) == beneficiaries

    def test_repairs_edited_demo_data(self):
        demo_data_load()
        identity = Member.objects.get(nir=DEMO_IDENTITIES[0].nir)
        identity.postal_code = "75001"
        identity.save()
        identity.beneficiaries.first().delete()
        result = demo_data_load()
        assert result.counts.updated == 1
        identity.refresh_from_db()
        assert identity.postal_code == "69003"
        assert identity.beneficiaries.count() == 2

    def test_fast(self):
        demo_data_load()
        started = time.perf_counter()
        demo_data_load()
        assert time.perf_counter() - started < 3


@pytest.mark.django_db
class TestDemoDataCommand:
    def test_prints_the_demo_identities(self, capsys):
        call_command("demo_data")
        out = capsys.readouterr().out
        assert "Numéro de sécurité sociale : 2 85 03 69 138 583 61" in out
        assert "Nom de famille : Lefèvre" in out
        assert "Prénom : Camille" in out
        assert "Date de naissance : 14/03/1985" in out
        assert "Code postal : 69003" in out
        assert "Numéro de sécurité sociale : 1 72 11 2A 979 884 72" in out
        assert "Date de naissance : 05/11/1972" in out
        assert "Code postal : 13001" in out

    def test_identities_are_stable_and_on_file(self, capsys):
        call_command("demo_data")
        first = capsys.readouterr().out
        call_command("demo_data")
        second = capsys.readouterr().out
        assert first.split("\n", 1)[1] == second.split("\n", 1)[1]
        assert "inchangés : 60" in second
        for identity in DEMO_IDENTITIES:
            member = Member.objects.with_nir(identity.nir).get()
            assert (member.last_name, member.birth_date, member.postal_code) == (
                identity.last_name,
                identity.birth_date,
                identity.postal_code,
            )
            assert member.is_eligible

    def test_does_nothing_outside_demo_mode(self, settings, capsys):
        settings.PORTAIL_DEMO = False
        call_command("demo_data")
        assert "Mode démonstration désactivé" in capsys.readouterr().out
        assert not Member.objects.exists()
