from http import HTTPStatus

import pytest
from django.urls import reverse

PUBLIC_PAGES = [
    "public:home",
    "public:member_space",
    "public:members",
    "public:how_it_works",
    "public:eligibility",
    "public:professionals",
    "public:employers",
    "public:legal_notice",
    "public:accessibility",
    "public:privacy",
]


@pytest.mark.django_db
class TestPublicPages:
    @pytest.mark.parametrize("name", PUBLIC_PAGES)
    def test_anyone_can_read_it(self, client, name):
        response = client.get(reverse(name))
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert html.count("<h1") == 1
        assert 'href="#contenu"' in html
        assert 'lang="fr"' in html

    def test_the_footer_kept_per_process_follows_the_language(self, client):
        assert ">Mentions légales</a>" in client.get(reverse("public:home")).content.decode()
        english = client.get(reverse("public:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert ">Legal notice</a>" in english and "Mentions légales" not in english
        assert ">Mentions légales</a>" in client.get(reverse("public:home")).content.decode()
