"""Import of the register of members from a CSV file (`manage.py import_members`).

The file is streamed and written in batches, so a million-row file runs in constant memory. Each row is
validated in full before it is written: a bad row is rejected (line number and reason) and the others
still import. Rows are matched by NIR, so importing the same file twice gives the same register.
"""

import csv
import datetime
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portail.registry.enums import ImportRunStatus, Scheme, Sex
from portail.registry.models import REJECTIONS_STORED_MAX, Fund, ImportRun, Member
from portail.registry.nir import NirError, parse_nir
from portail.registry.services import MemberData, UpsertCounts, members_upsert

REQUIRED_COLUMNS = (
    "nir",
    "last_name",
    "first_names",
    "birth_date",
    "sex",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "email",
    "doctor_name",
    "doctor_since",
    "statements_to_complementary",
)
OPTIONAL_COLUMNS = ("scheme",)
# Columns that must hold a value on every row (the others may be empty).
VALUE_REQUIRED = ("nir", "last_name", "first_names", "birth_date", "sex", "address_line1", "postal_code", "city")

COLUMN_LABELS = {
    "nir": gettext_lazy("NIR"),
    "last_name": gettext_lazy("nom de famille"),
    "first_names": gettext_lazy("prénoms"),
    "birth_date": gettext_lazy("date de naissance"),
    "sex": gettext_lazy("sexe"),
    "address_line1": gettext_lazy("adresse"),
    "address_line2": gettext_lazy("complément d'adresse"),
    "postal_code": gettext_lazy("code postal"),
    "city": gettext_lazy("commune"),
    "email": gettext_lazy("adresse e-mail"),
    "doctor_name": gettext_lazy("médecin traitant"),
    "doctor_since": gettext_lazy("date de déclaration du médecin traitant"),
    "statements_to_complementary": gettext_lazy("relevés à la complémentaire"),
    "scheme": gettext_lazy("régime"),
}
TEXT_COLUMNS = ("last_name", "first_names", "address_line1", "address_line2", "city", "email", "doctor_name")

DEFAULT_BATCH_SIZE = 2000
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only: \d also takes other scripts' digits
_POSTAL_CODE = re.compile(r"[0-9]{5}")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by errors="surrogateescape"


class ImportFileError(Exception):
    """The file cannot be imported at all (missing, unreadable, no header...). The message is French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str  # "ligne 12 : ..."


@dataclass(frozen=True)
class ImportProgress:
    rows_read: int
    elapsed: float  # seconds

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.elapsed if self.elapsed > 0 else 0.0


class _RowRejected(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__(reasons)
        self.reasons = reasons


def _field_model_max_length(column: str) -> int:
    return Member._meta.get_field(column).max_length


_MAX_LENGTHS = {column: _field_model_max_length(column) for column in TEXT_COLUMNS}


def parse_iso_date(value: str) -> datetime.date | None:
    """The date of an "AAAA-MM-JJ" text, or None if it is not one or does not exist (the register's and the
    payment feed's dates)."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def member_row_parse(values: dict[str, str], *, today: datetime.date) -> MemberData:
    """Validate one row (column name -> raw text); raise _RowRejected with every reason found."""
    reasons: list[str] = []
    row = {column: (value or "").strip() for column, value in values.items()}

    if any(_NOT_UTF8.search(value) for value in row.values()):
        raise _RowRejected([_("caractères qui ne sont pas en UTF-8 (enregistrez le fichier en UTF-8)")])

    for column in VALUE_REQUIRED:
        if not row[column]:
            reasons.append(
                _("%(label)s manquant (colonne « %(column)s » vide)")
                % {"label": COLUMN_LABELS[column], "column": column}
            )

    for column, max_length in _MAX_LENGTHS.items():
        if len(row[column]) > max_length:
            reasons.append(
                _("%(label)s trop long (%(length)d caractères, %(max)d au plus)")
                % {"label": COLUMN_LABELS[column], "length": len(row[column]), "max": max_length}
            )

    nir = None
    if row["nir"]:
        try:
            nir = parse_nir(row["nir"])
        except NirError as error:
            reasons.append(_("NIR invalide : %(message)s") % {"message": error.messages[0]})

    birth_date = None
    if row["birth_date"]:
        birth_date = parse_iso_date(row["birth_date"])
        if birth_date is None:
            reasons.append(
                _("date de naissance « %(value)s » invalide, format attendu AAAA-MM-JJ") % {"value": row["birth_date"]}
            )
        elif birth_date > today:
            reasons.append(_("date de naissance « %(value)s » dans le futur") % {"value": row["birth_date"]})
            birth_date = None

    sex = None
    if row["sex"]:
        if row["sex"] in Sex.values:
            sex = Sex(row["sex"])
        else:
            reasons.append(_("sexe « %(value)s » invalide, 1 (homme) ou 2 (femme) attendu") % {"value": row["sex"]})

    if nir and sex and birth_date and not nir.agrees_with(sex=sex, birth_date=birth_date):
        reasons.append(_("le NIR ne correspond pas au sexe ou à la date de naissance indiqués"))

    if row["postal_code"] and not _POSTAL_CODE.fullmatch(row["postal_code"]):
        reasons.append(_("code postal « %(value)s » invalide, 5 chiffres attendus") % {"value": row["postal_code"]})

    if row["email"]:
        try:
            validate_email(row["email"])
        except ValidationError:
            reasons.append(_("adresse e-mail « %(value)s » invalide") % {"value": row["email"]})

    doctor_since = None
    if row["doctor_since"]:
        doctor_since = parse_iso_date(row["doctor_since"])
        if doctor_since is None:
            reasons.append(
                _("date de déclaration du médecin traitant « %(value)s » invalide, format attendu AAAA-MM-JJ")
                % {"value": row["doctor_since"]}
            )
        elif not row["doctor_name"]:
            reasons.append(_("date de déclaration du médecin traitant sans nom de médecin (colonne doctor_name)"))

    statements = row["statements_to_complementary"]
    if statements not in ("", "0", "1"):
        reasons.append(
            _("relevés à la complémentaire « %(value)s » invalide, 0 ou 1 attendu (colonne %(column)s)")
            % {"value": statements, "column": "statements_to_complementary"}
        )

    scheme = Scheme.GENERAL
    if row.get("scheme"):
        if row["scheme"] in Scheme.values:
            scheme = Scheme(row["scheme"])
        else:
            reasons.append(
                _("régime « %(value)s » inconnu, valeurs possibles : %(choices)s")
                % {"value": row["scheme"], "choices": ", ".join(Scheme.values)}
            )

    if reasons:
        raise _RowRejected(reasons)
    return MemberData(
        nir=nir.number,
        last_name=row["last_name"],
        first_names=row["first_names"],
        birth_date=birth_date,
        sex=sex,
        address_line1=row["address_line1"],
        address_line2=row["address_line2"],
        postal_code=row["postal_code"],
        city=row["city"],
        email=row["email"],
        doctor_name=row["doctor_name"],
        doctor_since=doctor_since,
        statements_to_complementary=statements == "1",
        scheme=scheme,
    )


def fund_for_import(*, code: str | None) -> Fund:
    """The fund named by `code`; without a code, the only fund of the register."""
    if code:
        try:
            return Fund.objects.get(code=code)
        except Fund.DoesNotExist:
            known = ", ".join(Fund.objects.values_list("code", flat=True)) or _("aucune")
            raise ImportFileError(
                _("Caisse « %(code)s » inconnue. Caisses enregistrées : %(known)s.") % {"code": code, "known": known}
            ) from None
    funds = list(Fund.objects.all()[:2])
    if len(funds) == 1:
        return funds[0]
    if not funds:
        raise ImportFileError(_("Aucune caisse n'est enregistrée : créez-la dans l'administration, puis relancez."))
    raise ImportFileError(_("Plusieurs caisses sont enregistrées : précisez laquelle avec --fund CODE."))


def _header(reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            _("Le fichier est vide : la première ligne doit donner les noms des colonnes (%(columns)s).")
            % {"columns": ", ".join(REQUIRED_COLUMNS)}
        ) from None
    except csv.Error as error:
        raise ImportFileError(_("Ligne d'en-tête illisible : %(error)s") % {"error": error}) from None
    if not any(name.strip() for name in header):
        raise ImportFileError(
            _("La première ligne est vide : elle doit donner les noms des colonnes (%(columns)s).")
            % {"columns": ", ".join(REQUIRED_COLUMNS)}
        )
    header = [name.strip().lower() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            _("Colonnes absentes de la ligne d'en-tête : %(missing)s. Colonnes attendues : %(columns)s.")
            % {"missing": ", ".join(missing), "columns": ", ".join(REQUIRED_COLUMNS)}
        )
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise ImportFileError(
            _("Colonnes en double dans la ligne d'en-tête : %(columns)s.") % {"columns": ", ".join(duplicated)}
        )
    return header


def _rows(reader, header: list[str]) -> Iterator[tuple[int, dict[str, str] | None, str | None]]:
    """(line number, values by column or None, reason when the line cannot be split into columns)."""
    known = [(index, name) for index, name in enumerate(header) if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    while True:
        line_before = reader.line_num
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if reader.line_num == line_before:  # the reader cannot move on: stop rather than loop
                raise ImportFileError(
                    _("Fichier illisible à partir de la ligne %(line)d : %(error)s")
                    % {"line": line_before + 1, "error": error}
                ) from None
            yield reader.line_num, None, _("ligne illisible (%(error)s)") % {"error": error}
            continue
        if not fields or fields == [""]:  # blank line
            continue
        if len(fields) != len(header):
            yield (
                reader.line_num,
                None,
                _("%(count)d colonnes au lieu de %(expected)d") % {"count": len(fields), "expected": len(header)},
            )
            continue
        yield reader.line_num, {name: fields[index] for index, name in known}, None


def _open_reader(handle):
    """A csv reader on `handle`; the delimiter is a comma, or a semicolon when the header uses them."""
    first_line = handle.readline()
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return csv.reader(itertools.chain([first_line], handle), delimiter=delimiter, strict=True)


def members_import(
    *,
    path: Path | str,
    fund_code: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[ImportProgress], None] | None = None,
    on_rejection: Callable[[Rejection], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    progress_interval: float = 1.0,
) -> ImportRun:
    """Import the register file at `path` (see docs/register-import.md) and record the run.

    Raises ImportFileError (after recording the run as failed) when the file cannot be imported at all.
    `on_progress` is called at most once per `progress_interval` seconds; `on_rejection` once per bad row.
    """
    path = Path(path)
    run = ImportRun.objects.create(file_name=path.name, started_at=timezone.now())
    counts = UpsertCounts()
    batch: dict[str, MemberData] = {}
    today = timezone.localdate()
    started = last_progress = clock()

    def save_run(**extra) -> None:
        run.created_count, run.updated_count, run.unchanged_count = counts.created, counts.updated, counts.unchanged
        for name, value in extra.items():
            setattr(run, name, value)
        run.save()

    def flush(fund: Fund) -> None:
        nonlocal counts
        if batch:
            counts += members_upsert(members=list(batch.values()), fund=fund)  # atomic
            batch.clear()
        save_run()

    def reject(line: int, reasons: list[str]) -> None:
        rejection = Rejection(
            line=line, reason=_("ligne %(line)d : %(reasons)s") % {"line": line, "reasons": " ; ".join(reasons)}
        )
        run.rejected_count += 1
        if len(run.rejections) < REJECTIONS_STORED_MAX:
            run.rejections.append({"line": rejection.line, "reason": rejection.reason})
        if on_rejection:
            on_rejection(rejection)

    try:
        fund = fund_for_import(code=fund_code)
        run.fund = fund
        try:
            handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        except OSError as error:
            raise ImportFileError(
                _("Impossible d'ouvrir le fichier « %(path)s » : %(error)s.") % {"path": path, "error": error.strerror}
            ) from None
        with handle:
            try:
                reader = _open_reader(handle)
                header = _header(reader)
                for line, values, problem in _rows(reader, header):
                    run.rows_read += 1
                    if problem:
                        reject(line, [problem])
                    else:
                        try:
                            member = member_row_parse(values, today=today)
                        except _RowRejected as rejected:
                            reject(line, rejected.reasons)
                        else:
                            if member.nir in batch or len(batch) >= batch_size:
                                # A NIR seen twice in a batch goes to the next one: the later row wins.
                                flush(fund)
                            batch[member.nir] = member
                    if on_progress and clock() - last_progress >= progress_interval:
                        last_progress = clock()
                        on_progress(ImportProgress(rows_read=run.rows_read, elapsed=last_progress - started))
                flush(fund)
            except OSError as error:
                raise ImportFileError(
                    _("Lecture du fichier « %(path)s » interrompue : %(error)s.")
                    % {"path": path, "error": error.strerror or error}
                ) from None
    except ImportFileError as error:
        save_run(status=ImportRunStatus.FAILED, error=error.message, finished_at=timezone.now())
        raise
    save_run(status=ImportRunStatus.FINISHED, finished_at=timezone.now())
    return run


def import_summary(run: ImportRun) -> str:
    """The final line: "créés : N, mis à jour : N, inchangés : N, rejetés : N"."""
    return _("créés : %(created)d, mis à jour : %(updated)d, inchangés : %(unchanged)d, rejetés : %(rejected)d") % {
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "rejected": run.rejected_count,
    }
