import csv
import datetime
import itertools
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portail.registry import importing
from portail.registry.enums import ImportRunStatus, Scheme, Sex
from portail.registry.factories import FundFactory, MemberFactory
from portail.registry.importing import REQUIRED_COLUMNS, ImportFileError, members_import
from portail.registry.models import Fund, ImportRun, Member
from portail.registry.nir import nir_generate

BIRTH_DATE = datetime.date(1985, 3, 14)


def member_row(seed: int = 0, **overrides) -> dict[str, str]:
    """A valid row; the NIR agrees with sex and birth date."""
    nir = nir_generate(sex=Sex.FEMALE, birth_date=BIRTH_DATE, rng=random.Random(seed), department="69")
    row = {
        "nir": nir.formatted,
        "last_name": "Lefèvre",
        "first_names": f"Camille {seed}",
        "birth_date": BIRTH_DATE.isoformat(),
        "sex": "2",
        "address_line1": "12 rue des Tanneurs",
        "address_line2": "",
        "postal_code": "69003",
        "city": "Lyon",
        "email": "camille.lefevre@example.org",
        "doctor_name": "Dr Hélène Garnier",
        "doctor_since": "2019-09-02",
        "statements_to_complementary": "0",
    }
    return row | overrides


def write_csv(path, rows, *, header=REQUIRED_COLUMNS, delimiter=",", bom=False):
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(column, "") for column in header])
    return path


@pytest.fixture
def fund(db):
    return FundFactory(code="751", name="Caisse de test")


@pytest.fixture
def csv_path(tmp_path):
    return tmp_path / "assures.csv"


@pytest.mark.django_db
class TestImportMembers:
    def test_creates_members(self, fund, csv_path):
        write_csv(
            csv_path, [member_row(1), member_row(2, statements_to_complementary="1", doctor_name="", doctor_since="")]
        )
        run = members_import(path=csv_path, fund_code="751")
        assert (run.created_count, run.updated_count, run.unchanged_count, run.rejected_count) == (2, 0, 0, 0)
        assert run.status == ImportRunStatus.FINISHED
        assert run.rows_read == 2
        member = Member.objects.get(first_names="Camille 1")
        expected_nir = member_row(1)["nir"].replace(" ", "")[:13]
        assert member.nir == expected_nir
        assert (member.birth_date, member.sex, member.fund, member.scheme) == (BIRTH_DATE, Sex.FEMALE, fund, "general")
        assert (member.doctor_name, member.doctor_since) == ("Dr Hélène Garnier", datetime.date(2019, 9, 2))
        assert member.statements_to_complementary is False
        other = Member.objects.get(first_names="Camille 2")
        assert (other.statements_to_complementary, other.doctor_name, other.doctor_since) == (True, "", None)

    def test_scheme_column(self, fund, csv_path):
        header = (*REQUIRED_COLUMNS, "scheme")
        write_csv(csv_path, [member_row(1, scheme="local_mutual_section"), member_row(2)], header=header)
        members_import(path=csv_path, fund_code="751")
        assert Member.objects.get(first_names="Camille 1").scheme == Scheme.LOCAL_MUTUAL_SECTION
        assert Member.objects.get(first_names="Camille 2").scheme == Scheme.GENERAL

    def test_running_twice_gives_the_same_register(self, fund, csv_path):
        write_csv(csv_path, [member_row(seed) for seed in range(5)])
        members_import(path=csv_path, fund_code="751")
        before = list(Member.objects.order_by("nir").values())
        run = members_import(path=csv_path, fund_code="751")
        assert (run.created_count, run.updated_count, run.unchanged_count, run.rejected_count) == (0, 0, 5, 0)
        assert list(Member.objects.order_by("nir").values()) == before

    def test_updates_changed_rows_only(self, fund, csv_path):
        write_csv(csv_path, [member_row(1), member_row(2)])
        members_import(path=csv_path, fund_code="751")
        original = Member.objects.get(first_names="Camille 1")
        write_csv(csv_path, [member_row(1, city="Villeurbanne", postal_code="69100"), member_row(2)])
        run = members_import(path=csv_path, fund_code="751")
        assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 1, 1)
        updated = Member.objects.get(pk=original.pk)
        assert (updated.city, updated.postal_code) == ("Villeurbanne", "69100")
        assert updated.created_at == original.created_at
        assert updated.updated_at > original.updated_at

    def test_nir_with_or_without_key_is_the_same_member(self, fund, csv_path):
        row = member_row(1)
        write_csv(csv_path, [row])
        members_import(path=csv_path, fund_code="751")
        write_csv(csv_path, [row | {"nir": row["nir"].replace(" ", "")[:13]}])
        run = members_import(path=csv_path, fund_code="751")
        assert (run.created_count, run.unchanged_count, Member.objects.count()) == (0, 1, 1)

    def test_moves_member_to_the_imported_fund(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)])
        members_import(path=csv_path, fund_code="751")
        FundFactory(code="131", name="Autre caisse")
        run = members_import(path=csv_path, fund_code="131")
        assert run.updated_count == 1
        assert Member.objects.get().fund.code == "131"

    def test_bom_and_semicolons(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)], bom=True, delimiter=";")
        assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
        run = members_import(path=csv_path, fund_code="751")
        assert (run.created_count, run.rejected_count) == (1, 0)

    def test_header_names_are_trimmed_and_case_insensitive(self, fund, csv_path):
        with csv_path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([f" {column.upper()} " for column in REQUIRED_COLUMNS])
            writer.writerow(member_row(1).values())
        run = members_import(path=csv_path, fund_code="751")
        assert (run.created_count, run.rejected_count) == (1, 0)

    def test_a_bad_row_in_the_middle_leaves_the_others(self, fund, csv_path):
        write_csv(csv_path, [member_row(1), member_row(2, birth_date="1985-13-01"), member_row(3)])
        run = members_import(path=csv_path, fund_code="751")
        assert set(Member.objects.values_list("first_names", flat=True)) == {"Camille 1", "Camille 3"}
        assert (run.created_count, run.rejected_count) == (2, 1)
        assert run.rejections == [
            {"line": 3, "reason": "ligne 3 : date de naissance « 1985-13-01 » invalide, format attendu AAAA-MM-JJ"}
        ]

    def test_a_nir_twice_in_the_file_keeps_the_later_row(self, fund, csv_path):
        write_csv(csv_path, [member_row(1, city="Lyon"), member_row(2), member_row(1, city="Bron")])
        run = members_import(path=csv_path, fund_code="751")
        assert (run.created_count, run.updated_count) == (2, 1)
        assert Member.objects.get(first_names="Camille 1").city == "Bron"

    def test_blank_lines_are_skipped(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)])
        with csv_path.open("a") as handle:
            handle.write("\n\n")
        run = members_import(path=csv_path, fund_code="751")
        assert (run.rows_read, run.created_count, run.rejected_count) == (1, 1, 0)

    def test_wrong_number_of_columns(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)])
        with csv_path.open("a") as handle:
            handle.write("1,2,3\n")
        run = members_import(path=csv_path, fund_code="751")
        assert run.rejections == [{"line": 3, "reason": "ligne 3 : 3 colonnes au lieu de 13"}]

    def test_bytes_that_are_not_utf8(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)])
        with csv_path.open("ab") as handle:
            handle.write(",".join(member_row(2, city="Saint-\xc9tienne").values()).encode("latin-1") + b"\n")
        run = members_import(path=csv_path, fund_code="751")
        assert run.created_count == 1
        assert run.rejections == [
            {"line": 3, "reason": "ligne 3 : caractères qui ne sont pas en UTF-8 (enregistrez le fichier en UTF-8)"}
        ]

    def test_stored_rejections_are_capped(self, fund, csv_path, monkeypatch):
        monkeypatch.setattr(importing, "REJECTIONS_STORED_MAX", 2)
        write_csv(csv_path, [member_row(seed, sex="9") for seed in range(3)])
        run = members_import(path=csv_path, fund_code="751")
        run.refresh_from_db()
        assert (run.rejected_count, len(run.rejections), run.rejections_truncated) == (3, 2, True)

    def test_rejections_are_reported_as_they_come(self, fund, csv_path):
        write_csv(csv_path, [member_row(1, sex="9"), member_row(2), member_row(3, postal_code="")])
        reported = []
        members_import(path=csv_path, fund_code="751", on_rejection=reported.append)
        assert [rejection.line for rejection in reported] == [2, 4]

    def test_progress_at_most_once_a_second(self, fund, csv_path):
        write_csv(csv_path, [member_row(seed) for seed in range(30)])
        ticks = itertools.count(step=0.25)
        reported = []
        members_import(
            path=csv_path, fund_code="751", batch_size=7, on_progress=reported.append, clock=lambda: next(ticks)
        )
        assert len(reported) >= 3
        assert all(later.elapsed - earlier.elapsed >= 1 for earlier, later in itertools.pairwise(reported))
        assert [progress.rows_read for progress in reported] == sorted({progress.rows_read for progress in reported})
        assert reported[-1].rows_per_second > 0


VALID_BIRTH = BIRTH_DATE.isoformat()


@pytest.mark.django_db
class TestImportRejections:
    @pytest.mark.parametrize(
        ("overrides", "reason"),
        [
            ({"nir": ""}, "NIR manquant (colonne « nir » vide)"),
            (
                {"nir": "2 85 03"},
                "NIR invalide : Vous avez saisi 5 caractères (sans compter les espaces) : le numéro en compte 13, "
                "ou 15 avec la clé.",
            ),
            (
                {"nir": "285036913858399"},
                "NIR invalide : La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez chaque chiffre.",
            ),
            ({"last_name": ""}, "nom de famille manquant (colonne « last_name » vide)"),
            ({"last_name": "x" * 101}, "nom de famille trop long (101 caractères, 100 au plus)"),
            ({"first_names": " "}, "prénoms manquant (colonne « first_names » vide)"),
            ({"address_line1": ""}, "adresse manquant (colonne « address_line1 » vide)"),
            ({"city": ""}, "commune manquant (colonne « city » vide)"),
            ({"birth_date": ""}, "date de naissance manquant (colonne « birth_date » vide)"),
            ({"birth_date": "1985-13-01"}, "date de naissance « 1985-13-01 » invalide, format attendu AAAA-MM-JJ"),
            ({"birth_date": "14/03/1985"}, "date de naissance « 14/03/1985 » invalide, format attendu AAAA-MM-JJ"),
            ({"birth_date": "2999-03-14"}, "date de naissance « 2999-03-14 » dans le futur"),
            ({"sex": "F"}, "sexe « F » invalide, 1 (homme) ou 2 (femme) attendu"),
            ({"sex": "1"}, "le NIR ne correspond pas au sexe ou à la date de naissance indiqués"),
            ({"birth_date": "1986-03-14"}, "le NIR ne correspond pas au sexe ou à la date de naissance indiqués"),
            ({"postal_code": "6900"}, "code postal « 6900 » invalide, 5 chiffres attendus"),
            ({"postal_code": ""}, "code postal manquant (colonne « postal_code » vide)"),
            ({"email": "camille@"}, "adresse e-mail « camille@ » invalide"),
            (
                {"doctor_since": "2019-02-30"},
                "date de déclaration du médecin traitant « 2019-02-30 » invalide, format attendu AAAA-MM-JJ",
            ),
            (
                {"doctor_name": ""},
                "date de déclaration du médecin traitant sans nom de médecin (colonne doctor_name)",
            ),
            (
                {"statements_to_complementary": "oui"},
                "relevés à la complémentaire « oui » invalide, 0 ou 1 attendu (colonne statements_to_complementary)",
            ),
            (
                {"scheme": "msa"},
                "régime « msa » inconnu, valeurs possibles : general, local_mutual_section, agricultural, "
                "other_special",
            ),
        ],
    )
    def test_reason(self, fund, csv_path, overrides, reason):
        write_csv(csv_path, [member_row(1, **overrides)], header=(*REQUIRED_COLUMNS, "scheme"))
        run = members_import(path=csv_path, fund_code="751")
        assert run.rejections == [{"line": 2, "reason": f"ligne 2 : {reason}"}]
        assert not Member.objects.exists()

    def test_every_reason_of_a_row_is_given(self, fund, csv_path):
        write_csv(csv_path, [member_row(1, sex="", postal_code="ABCDE")])
        run = members_import(path=csv_path, fund_code="751")
        assert run.rejections[0]["reason"] == (
            "ligne 2 : sexe manquant (colonne « sex » vide) ; code postal « ABCDE » invalide, 5 chiffres attendus"
        )


@pytest.mark.django_db
class TestImportFileErrors:
    def test_missing_header_is_an_error_before_anything_is_read(self, fund, csv_path):
        header = [column for column in REQUIRED_COLUMNS if column not in ("birth_date", "email")]
        write_csv(csv_path, [member_row(1)], header=header)
        with pytest.raises(ImportFileError) as caught:
            members_import(path=csv_path, fund_code="751")
        assert caught.value.message == (
            "Colonnes absentes de la ligne d'en-tête : birth_date, email. Colonnes attendues : nir, last_name, "
            "first_names, birth_date, sex, address_line1, address_line2, postal_code, city, email, doctor_name, "
            "doctor_since, statements_to_complementary."
        )
        assert not Member.objects.exists()
        run = ImportRun.objects.get()
        assert (run.status, run.error, run.rows_read) == (ImportRunStatus.FAILED, caught.value.message, 0)

    def test_duplicated_header(self, fund, csv_path):
        write_csv(csv_path, [], header=(*REQUIRED_COLUMNS, "city"))
        with pytest.raises(ImportFileError, match="Colonnes en double dans la ligne d'en-tête : city."):
            members_import(path=csv_path, fund_code="751")

    @pytest.mark.parametrize("content", ["", "\n"])
    def test_empty_file(self, fund, csv_path, content):
        csv_path.write_text(content)
        with pytest.raises(ImportFileError, match="la première ligne doit donner les noms des colonnes|vide"):
            members_import(path=csv_path, fund_code="751")

    def test_missing_file(self, fund, tmp_path):
        with pytest.raises(ImportFileError, match=r"Impossible d'ouvrir le fichier « .*absent.csv » : No such file"):
            members_import(path=tmp_path / "absent.csv", fund_code="751")
        assert ImportRun.objects.get().status == ImportRunStatus.FAILED

    def test_unknown_fund(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)])
        with pytest.raises(ImportFileError, match="Caisse « 999 » inconnue. Caisses enregistrées : 751."):
            members_import(path=csv_path, fund_code="999")

    def test_the_only_fund_is_the_default(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)])
        members_import(path=csv_path)
        assert Member.objects.get().fund == fund

    def test_several_funds_need_a_code(self, fund, csv_path):
        FundFactory(code="131")
        write_csv(csv_path, [member_row(1)])
        with pytest.raises(ImportFileError, match="précisez laquelle avec --fund CODE"):
            members_import(path=csv_path)

    def test_no_fund(self, csv_path):
        write_csv(csv_path, [member_row(1)])
        with pytest.raises(ImportFileError, match="Aucune caisse n'est enregistrée"):
            members_import(path=csv_path)


@pytest.mark.django_db
class TestImportQueries:
    @pytest.mark.parametrize(("rows", "batch_size"), [(10, 10), (40, 10), (40, 40)])
    def test_queries_per_batch_are_constant(self, fund, csv_path, django_assert_max_num_queries, rows, batch_size):
        write_csv(csv_path, [member_row(seed) for seed in range(rows)])
        batches = rows // batch_size
        # run record + fund + final save; per batch: savepoint, existing NIRs, one INSERT, release, run counts
        with django_assert_max_num_queries(3 + 5 * batches):
            members_import(path=csv_path, fund_code="751", batch_size=batch_size)
        assert Member.objects.count() == rows
        # The same file again (every row unchanged, nothing written) costs no more.
        with django_assert_max_num_queries(3 + 5 * batches):
            run = members_import(path=csv_path, fund_code="751", batch_size=batch_size)
        assert run.unchanged_count == rows

    def test_update_batch_costs_one_write(self, fund, csv_path):
        write_csv(csv_path, [member_row(seed) for seed in range(20)])
        members_import(path=csv_path, fund_code="751", batch_size=20)
        write_csv(csv_path, [member_row(seed, city="Bron") for seed in range(20)])
        with CaptureQueriesContext(connection) as queries:
            members_import(path=csv_path, fund_code="751", batch_size=20)
        writes = [q["sql"] for q in queries.captured_queries if 'INSERT INTO "registry_member"' in q["sql"]]
        assert len(writes) == 1


@pytest.mark.django_db
class TestImportMembersCommand:
    def test_summary_and_rejections(self, fund, csv_path, capsys):
        write_csv(csv_path, [member_row(1), member_row(2, postal_code="1"), member_row(3)])
        call_command("import_members", str(csv_path), "--fund", "751")
        out, err = capsys.readouterr()
        assert out.splitlines()[-1] == "créés : 2, mis à jour : 0, inchangés : 0, rejetés : 1"
        assert "ligne 3 : code postal « 1 » invalide, 5 chiffres attendus" in err

    def test_unreadable_file_fails(self, fund, tmp_path):
        with pytest.raises(CommandError, match="Impossible d'ouvrir le fichier"):
            call_command("import_members", str(tmp_path / "absent.csv"))

    def test_unknown_fund_fails(self, fund, csv_path):
        write_csv(csv_path, [member_row(1)])
        with pytest.raises(CommandError, match="Caisse « 000 » inconnue"):
            call_command("import_members", str(csv_path), "--fund", "000")
        assert not Member.objects.exists()


@pytest.mark.django_db
class TestFactories:
    def test_member_factory_is_coherent(self):
        for member in MemberFactory.create_batch(20, with_doctor=True):
            member.full_clean()
            assert member.nir_parsed.agrees_with(sex=member.sex, birth_date=member.birth_date)
            assert member.is_eligible
            assert member.doctor_name.startswith("Dr ")
        assert Fund.objects.count() == 1

    def test_ineligible_trait(self):
        assert not MemberFactory(ineligible=True).is_eligible
