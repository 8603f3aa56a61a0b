import csv
import stat

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from portail.accounts.enums import SecurityEventKind
from portail.accounts.models import SecurityEvent
from portail.post.enums import LetterStatus
from portail.post.factories import LetterFactory
from portail.post.models import Letter, PrintBatch
from portail.post.services import letter_render, print_batch_export, print_batch_mark_posted


def rendered_letters(count):
    letters = LetterFactory.create_batch(count, secret_context={"code": "73019284"})
    for letter in letters:
        letter_render(letter_id=letter.pk)
    return letters


@pytest.mark.django_db
class TestPrintBatchExport:
    def test_one_pdf_and_a_manifest_with_every_rendered_letter(self):
        letters = rendered_letters(3)
        LetterFactory()  # queued, not rendered yet: not printed

        batch = print_batch_export(created_by="agent")

        assert batch.letter_count == 3
        assert batch.created_by == "agent"
        assert len(PdfReader(batch.pdf_file).pages) == 3
        with batch.manifest_file.open(encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        assert [int(row["letter_id"]) for row in rows] == [letter.pk for letter in letters]
        assert [row["first_page"] for row in rows] == ["1", "2", "3"]
        assert rows[0]["postal_code"] == letters[0].recipient_postal_code
        for path in (batch.pdf_file, batch.manifest_file):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert set(Letter.objects.filter(batch=batch).values_list("status", flat=True)) == {LetterStatus.BATCHED}
        assert Letter.objects.filter(status=LetterStatus.QUEUED).count() == 1

    def test_manifest_holds_no_code_and_no_nir(self):
        letters = rendered_letters(2)
        manifest = print_batch_export().manifest_file.read_text(encoding="utf-8")
        assert "73019284" not in manifest
        assert "7301 9284" not in manifest
        for letter in letters:
            assert letter.member.nir not in manifest

    def test_twice_never_puts_a_letter_in_two_batches(self):
        rendered_letters(2)
        first = print_batch_export()
        assert print_batch_export() is None
        rendered_letters(1)
        second = print_batch_export()
        assert second.letter_count == 1
        assert Letter.objects.filter(batch=first).count() == 2
        assert Letter.objects.filter(batch=second).count() == 1
        assert PrintBatch.objects.count() == 2

    def test_nothing_to_print(self):
        assert print_batch_export() is None
        assert not PrintBatch.objects.exists()


@pytest.mark.django_db
class TestPrintBatchMarkPosted:
    def test_letters_are_posted(self):
        rendered_letters(2)
        batch = print_batch_export()
        print_batch_mark_posted(batch_id=batch.pk)
        batch.refresh_from_db()
        assert batch.posted_at is not None
        letters = Letter.objects.filter(batch=batch)
        assert {letter.status for letter in letters} == {LetterStatus.POSTED}
        assert {letter.posted_at for letter in letters} == {batch.posted_at}

    def test_twice_changes_nothing(self):
        rendered_letters(1)
        batch = print_batch_mark_posted(batch_id=print_batch_export().pk)
        again = print_batch_mark_posted(batch_id=batch.pk)
        assert again.posted_at == batch.posted_at


@pytest.mark.django_db
class TestCommands:
    def test_export_print_batch_twice(self, capsys):
        rendered_letters(2)
        call_command("export_print_batch")
        out = capsys.readouterr().out
        batch = PrintBatch.objects.get()
        assert str(batch.pdf_file) in out
        assert str(batch.manifest_file) in out
        assert "2 courriers" in out

        call_command("export_print_batch")
        assert "Aucun courrier à imprimer" in capsys.readouterr().out
        assert PrintBatch.objects.count() == 1

    def test_mark_batch_posted(self, capsys):
        rendered_letters(1)
        batch = print_batch_export()
        call_command("mark_batch_posted", str(batch.pk))
        assert "remis à La Poste" in capsys.readouterr().out
        call_command("mark_batch_posted", str(batch.pk))
        assert "déjà" in capsys.readouterr().out
        assert Letter.objects.get().status == LetterStatus.POSTED

    def test_mark_unknown_batch_posted(self):
        from django.core.management import CommandError

        with pytest.raises(CommandError):
            call_command("mark_batch_posted", "999999")


@pytest.mark.django_db
class TestLetterPostedAudit:
    def test_posting_a_batch_records_one_security_event_per_letter(self):
        letters = rendered_letters(2)
        batch = print_batch_export()
        print_batch_mark_posted(batch_id=batch.pk)
        print_batch_mark_posted(batch_id=batch.pk)
        events = SecurityEvent.objects.filter(kind=SecurityEventKind.LETTER_POSTED)
        assert sorted(events.values_list("member_id", flat=True)) == sorted(letter.member_id for letter in letters)
