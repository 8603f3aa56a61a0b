from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.backoffice.enums import AgentAction
from portail.backoffice.models import AgentAccess
from portail.benefits.models import PaymentImportRun
from portail.post.enums import LetterStatus
from portail.post.factories import LetterFactory
from portail.post.models import Letter, PrintBatch
from portail.post.services import letter_render
from portail.registry.enums import ImportRunStatus
from portail.registry.models import ImportRun


def rendered_letters(count):
    return [letter_render(letter_id=LetterFactory().pk) for _ in range(count)]


@pytest.mark.django_db
class TestLetterQueue:
    def test_counts_waiting_letters_and_export(self, as_supervisor, supervisor):
        rendered_letters(2)
        LetterFactory()  # queued only
        page = as_supervisor.get(reverse("backoffice:letters")).content.decode()
        assert "2 courriers sont prêts à imprimer." in page
        response = as_supervisor.post(reverse("backoffice:letters_export"))
        batch = PrintBatch.objects.get()
        assert response["Location"] == f"{reverse('backoffice:letters')}#lot-{batch.pk}"
        assert batch.letter_count == 2
        assert batch.created_by == supervisor.username
        assert Letter.objects.filter(status=LetterStatus.BATCHED).count() == 2
        assert AgentAccess.objects.filter(action=AgentAction.PRINT_BATCH_EXPORTED, agent=supervisor).count() == 1
        page = as_supervisor.get(reverse("backoffice:letters")).content.decode()
        assert reverse("backoffice:batch_pdf", args=[batch.pk]) in page
        assert reverse("backoffice:batch_posted", args=[batch.pk]) in page

    def test_nothing_to_export(self, as_supervisor):
        response = as_supervisor.post(reverse("backoffice:letters_export"), follow=True)
        assert "Aucun courrier à imprimer" in response.content.decode()
        assert not PrintBatch.objects.exists()

    @pytest.mark.parametrize(
        ("name", "content_type", "start"),
        [("batch_pdf", "application/pdf", b"%PDF"), ("batch_manifest", "text/csv", b"letter_id")],
    )
    def test_downloads_are_served_and_audited(self, as_supervisor, name, content_type, start):
        rendered_letters(1)
        as_supervisor.post(reverse("backoffice:letters_export"))
        batch = PrintBatch.objects.get()
        response = as_supervisor.get(reverse(f"backoffice:{name}", args=[batch.pk]))
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == content_type
        assert b"".join(response.streaming_content).startswith(start)
        assert AgentAccess.objects.filter(action=AgentAction.PRINT_BATCH_DOWNLOADED).count() == 1

    def test_a_file_outside_the_batches_directory_is_never_served(self, as_supervisor, settings, tmp_path):
        outside = tmp_path / "secret.pdf"
        outside.write_bytes(b"%PDF secret")
        batch = PrintBatch.objects.create(letter_count=0, pdf_path="../secret.pdf")
        assert as_supervisor.get(reverse("backoffice:batch_pdf", args=[batch.pk])).status_code == HTTPStatus.NOT_FOUND

    def test_mark_posted(self, as_supervisor):
        rendered_letters(2)
        as_supervisor.post(reverse("backoffice:letters_export"))
        batch = PrintBatch.objects.get()
        as_supervisor.post(reverse("backoffice:batch_posted", args=[batch.pk]))
        as_supervisor.post(reverse("backoffice:batch_posted", args=[batch.pk]))  # idempotent
        batch.refresh_from_db()
        assert batch.posted_at is not None
        assert Letter.objects.filter(status=LetterStatus.POSTED).count() == 2
        assert AgentAccess.objects.filter(action=AgentAction.PRINT_BATCH_POSTED).count() == 1

    def test_unknown_batch(self, as_supervisor):
        assert as_supervisor.post(reverse("backoffice:batch_posted", args=[404])).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
class TestFeeds:
    def test_history_summaries_and_rejected_lines(self, as_supervisor):
        register = ImportRun.objects.create(
            file_name="registre-2025-03.csv",
            started_at=timezone.now(),
            finished_at=timezone.now(),
            status=ImportRunStatus.FINISHED,
            rows_read=12,
            created_count=10,
            rejected_count=2,
            rejections=[{"line": 4, "reason": "ligne 4 : date de naissance invalide"}],
        )
        payments = PaymentImportRun.objects.create(
            source="paiements.jsonl",
            started_at=timezone.now(),
            lines_read=3,
            created_count=2,
            rejected_count=1,
            rejections=[{"line": 3, "reason": "ligne 3 : montant manquant"}],
        )
        page = as_supervisor.get(reverse("backoffice:feeds")).content.decode()
        assert "registre-2025-03.csv" in page and "paiements.jsonl" in page
        detail = as_supervisor.get(reverse("backoffice:register_run", args=[register.pk])).content.decode()
        assert "date de naissance invalide" in detail
        assert "Les 1 premières sur 2." in detail
        detail = as_supervisor.get(reverse("backoffice:payment_run", args=[payments.pk])).content.decode()
        assert "montant manquant" in detail

    def test_empty(self, as_supervisor):
        page = as_supervisor.get(reverse("backoffice:feeds")).content.decode()
        assert "Aucun import du registre." in page and "Aucun import de paiements." in page
