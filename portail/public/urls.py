from django.urls import path

from portail.accounts.views import login_view
from portail.public.views import public_page

app_name = "public"

urlpatterns = [
    path("", public_page("public/home.html"), name="home"),
    # The member-space entry: log in, or order a provisional code to create the account.
    path("mon-compte/", login_view, name="member_space"),
    path("assures/", public_page("public/members.html"), name="members"),
    path("comment-ca-marche/", public_page("public/how_it_works.html"), name="how_it_works"),
    path("qui-peut-utiliser-le-portail/", public_page("public/eligibility.html"), name="eligibility"),
    path("professionnels-de-sante/", public_page("public/professionals.html"), name="professionals"),
    path("employeurs/", public_page("public/employers.html"), name="employers"),
    path("mentions-legales/", public_page("public/legal_notice.html"), name="legal_notice"),
    path("accessibilite/", public_page("public/accessibility.html"), name="accessibility"),
    path("donnees-personnelles/", public_page("public/privacy.html"), name="privacy"),
]
