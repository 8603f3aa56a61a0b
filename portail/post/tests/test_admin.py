from http import HTTPStatus

import pytest
from django.urls import reverse

from portail.post.factories import EmailFactory, LetterFactory
from portail.post.services import letter_render, print_batch_export


@pytest.mark.django_db
class TestAdmin:
    def test_letter_pages_show_no_secret(self, admin_client):
        letter = LetterFactory(secret_context={"code": "73019284"})  # still queued: the secret is there
        for url in (
            reverse("admin:post_letter_changelist"),
            reverse("admin:post_letter_change", args=[letter.pk]),
        ):
            response = admin_client.get(url)
            assert response.status_code == HTTPStatus.OK
            assert "73019284" not in response.content.decode()
            assert letter.member.nir not in response.content.decode()

    def test_read_only(self, admin_client):
        letter = LetterFactory()
        letter_render(letter_id=letter.pk)
        batch = print_batch_export()
        email = EmailFactory()
        for model, obj in (("letter", letter), ("printbatch", batch), ("email", email)):
            assert admin_client.get(reverse(f"admin:post_{model}_add")).status_code == HTTPStatus.FORBIDDEN
            response = admin_client.get(reverse(f"admin:post_{model}_change", args=[obj.pk]))
            assert response.status_code == HTTPStatus.OK
            assert 'name="_save"' not in response.content.decode()
