"""The letter that carries a provisional code: what it is, how long it lasts, the three next steps."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portail.post.enums import LetterKind
from portail.post.letters.base import LetterRenderer, as_date, register, short_date
from portail.post.letters.layout import LetterPage, text


def spaced_code(code: str) -> str:
    """ "48210937" → "4821 0937": two groups of four digits are easier to read and to type."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


@register
class ProvisionalCodeLetter(LetterRenderer):
    kind = LetterKind.PROVISIONAL_CODE
    title = gettext_lazy("Votre code confidentiel provisoire")
    context_keys = frozenset({"issued_at", "expires_at"})
    secret_keys = frozenset({"code"})

    def check(self, *, context: dict, secret_context: dict) -> None:
        super().check(context=context, secret_context=secret_context)
        code = secret_context["code"]
        if not (isinstance(code, str) and len(code) == 8 and code.isascii() and code.isdigit()):
            raise ValueError("A provisional code is a string of 8 digits.")
        if as_date(context["expires_at"]) < as_date(context["issued_at"]):
            raise ValueError("A provisional code cannot expire before it is issued.")

    def draw_body(self, page: LetterPage, letter) -> None:
        issued_at = as_date(letter.context["issued_at"])
        expires_at = as_date(letter.context["expires_at"])
        days = (expires_at - issued_at).days

        page.subject(_("Objet : votre code confidentiel provisoire"))
        page.paragraph(text(self.salutation(letter.recipient_name)))
        page.paragraph(
            text(
                _(
                    "Vous avez demandé un code pour créer votre compte sur le Portail assuré. "
                    "Le voici. Il vous servira à vous connecter la première fois."
                )
            ),
            after_mm=4,
        )
        page.highlighted_code(
            label=_("Votre code confidentiel provisoire"),
            code=spaced_code(letter.secret_context["code"]),
            note=_("Ce code est valable %(days)s jours : du %(start)s au %(end)s.")
            % {"days": days, "start": short_date(issued_at), "end": short_date(expires_at)},
        )

        page.paragraph(text(_("Pour créer votre compte, en trois étapes :")), style="strong")
        portal = settings.PORTAIL_BASE_URL.removeprefix("https://").removeprefix("http://") or _("le Portail assuré")
        page.numbered_steps(
            [
                text(
                    _(
                        "Allez sur %(portal)s, cliquez sur « Mon compte » et connectez-vous avec votre "
                        "numéro de sécurité sociale et le code ci-dessus."
                    )
                    % {"portal": portal}
                ),
                text(
                    _(
                        "Acceptez les conditions d'utilisation, puis choisissez votre code personnel "
                        "(de 8 à 13 chiffres) et une question secrète."
                    )
                ),
                text(
                    _(
                        "Indiquez votre adresse e-mail, puis confirmez-la en cliquant sur le lien "
                        "que vous recevrez par e-mail."
                    )
                ),
            ]
        )
        page.paragraph(
            text(_("Si vous commandez un nouveau code, il remplace celui-ci : seul le dernier code reçu est valable."))
        )
        page.paragraph(
            f"<b>{text(_('Ne donnez jamais ce code à personne.'))}</b> "
            + text(_("Votre caisse ne vous le demandera jamais, ni par téléphone ni par e-mail.")),
        )
        self.draw_closing(page, letter, call_us_if=_("Si vous n'avez pas demandé ce code, appelez-nous au %(phone)s."))
