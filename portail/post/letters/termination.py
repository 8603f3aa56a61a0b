"""The letter confirming that a member closed the online account."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portail.post.enums import LetterKind
from portail.post.letters.base import LetterRenderer, as_date, register, short_date
from portail.post.letters.layout import LetterPage, text


@register
class AccountTerminatedLetter(LetterRenderer):
    kind = LetterKind.ACCOUNT_TERMINATED
    title = gettext_lazy("Résiliation de votre compte en ligne")
    context_keys = frozenset({"terminated_on"})

    def draw_body(self, page: LetterPage, letter) -> None:
        terminated_on = as_date(letter.context["terminated_on"])
        page.subject(_("Objet : résiliation de votre compte en ligne"))
        page.paragraph(text(self.salutation(letter.recipient_name)))
        page.paragraph(
            text(
                _("Comme vous l'avez demandé, votre compte sur le Portail assuré est résilié depuis le %(date)s.")
                % {"date": short_date(terminated_on)}
            )
        )
        page.paragraph(text(_("Ce qui change pour vous :")), style="strong")
        page.numbered_steps(
            [
                text(
                    _(
                        "Vos relevés de remboursements vous seront de nouveau envoyés par courrier, "
                        "dès le mois prochain."
                    )
                ),
                text(_("Vous ne pouvez plus vous connecter à ce compte ; vos remboursements, eux, ne changent pas.")),
                text(
                    _(
                        "Vous pourrez rouvrir un compte à tout moment : commandez un nouveau code provisoire "
                        "sur la page « Mon compte » du portail."
                    )
                ),
            ]
        )
        self.draw_closing(
            page, letter, call_us_if=_("Si vous n'avez pas demandé cette résiliation, appelez-nous au %(phone)s.")
        )
