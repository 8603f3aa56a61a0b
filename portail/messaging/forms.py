from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portail.forms import PortailForm
from portail.messaging.attachments import attachment_check
from portail.messaging.enums import Topic
from portail.messaging.models import ATTACHMENT_MAX_BYTES, BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH
from portail.messaging.services import body_normalise


class CountedTextarea(forms.Textarea):
    """A textarea followed by a character counter that counter.js fills in (aria-live, for screen readers).
    Without JavaScript the counter stays hidden and the hint gives the limit."""

    template_name = "messaging/widgets/counted_textarea.html"


class BodyField(forms.CharField):
    """The text of a message: line breaks counted as one character, as the browser's counter does."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Votre message"),
            help_text=_("4 000 caractères au plus. N'écrivez ni votre code personnel ni vos coordonnées bancaires."),
            max_length=BODY_MAX_LENGTH,
            widget=CountedTextarea(attrs={"rows": 12, "spellcheck": "true"}),
            error_messages={
                "required": _("Écrivez votre message."),
                "max_length": _(
                    "Votre message fait %(show_value)d caractères : %(limit_value)d au plus. Raccourcissez-le."
                ),
            },
            **kwargs,
        )

    def to_python(self, value):
        return body_normalise(super().to_python(value))


class AttachmentField(forms.FileField):
    """One optional PDF, JPEG or PNG file, checked from its content (attachments.attachment_check)."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Pièce jointe (facultatif)"),
            help_text=_("Un seul fichier PDF, JPEG ou PNG, de %(max)s Mo au plus.")
            % {"max": ATTACHMENT_MAX_BYTES // (1024 * 1024)},
            required=False,
            widget=forms.FileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
            error_messages={
                "invalid": _("Ce fichier n'a pas pu être lu : choisissez-le à nouveau."),
                "missing": _("Ce fichier n'a pas pu être lu : choisissez-le à nouveau."),
                "empty": _("Ce fichier est vide : choisissez un autre fichier."),
            },
            **kwargs,
        )

    def validate(self, value):
        super().validate(value)
        if value:
            attachment_check(value)


class ThreadStartForm(PortailForm):
    topic = forms.ChoiceField(
        label=_("Thème"),
        choices=[("", _("Choisissez un thème")), *Topic.choices],
        error_messages={"required": _("Choisissez le thème de votre message.")},
    )
    subject = forms.CharField(
        label=_("Objet"),
        help_text=_("En quelques mots, par exemple « Remboursement d'une consultation du 3 mars »."),
        max_length=SUBJECT_MAX_LENGTH,
        error_messages={
            "required": _("Écrivez l'objet de votre message."),
            "max_length": _("L'objet fait %(show_value)d caractères : %(limit_value)d au plus."),
        },
    )
    body = BodyField()
    attachment = AttachmentField()

    def clean_subject(self):
        value = " ".join(self.cleaned_data["subject"].split())
        if not value:
            raise ValidationError(_("Écrivez l'objet de votre message."), code="required")
        return value


class ReplyForm(PortailForm):
    body = BodyField()
    attachment = AttachmentField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = _("Votre réponse")
