"""Letters and e-mails: enqueue, render, batch for printing, post, send.

Every write that leads to something leaving the fund (a letter, an e-mail)
first saves a row, then enqueues its task with `transaction.on_commit`: a
rolled-back transaction sends nothing, a committed one loses nothing.
"""

import csv
import datetime as dt
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from pypdf import PdfWriter

from portail.post.enums import EmailStatus, LetterStatus
from portail.post.letters import renderer_for
from portail.post.models import Email, Letter, PrintBatch
from portail.post.signals import letters_posted
from portail.registry.enums import Sex

logger = logging.getLogger(__name__)

# 13 digits or more in a row, single spaces or dots allowed between them: what a NIR looks like.
LONG_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d[ .\u00a0]?){12}\d")

MANIFEST_COLUMNS = ["letter_id", "kind", "recipient_name", "postal_code", "city", "pages", "first_page"]


# Files -----------------------------------------------------------------------


def _write_private_file(root: Path, relative_path: str, data: bytes) -> None:
    """Write `data` to root/relative_path, atomically, readable by the portal's user only.

    The file is 0600 and every directory this creates under (and including) `root` is 0700.
    """
    path = Path(root) / relative_path
    directory = Path(root)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for part in Path(relative_path).parent.parts:
        directory /= part
        directory.mkdir(mode=0o700, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mkstemp creates it 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# Letters ---------------------------------------------------------------------


def _recipient_snapshot(member) -> dict:
    """Name and postal address as the register has them now: a letter never goes to a typed address."""
    with override(settings.LANGUAGE_CODE):
        civility = _("Madame") if member.sex == Sex.FEMALE else _("Monsieur")
    first_name = member.first_names.replace(",", " ").split()[0] if member.first_names.strip() else ""
    name = " ".join(part for part in (civility, first_name, member.last_name.upper()) if part)
    return {
        "recipient_name": name,
        "recipient_address_line1": member.address_line1,
        "recipient_address_line2": member.address_line2,
        "recipient_postal_code": member.postal_code,
        "recipient_city": member.city,
    }


def letter_enqueue(*, member, kind, context, secret_context=None) -> Letter:
    """Save a letter to `member` at the address on file and render it once the transaction commits."""
    from portail.post.tasks import letter_render_task

    secret_context = dict(secret_context or {})
    context = dict(context)
    renderer_for(kind).check(context=context, secret_context=secret_context)
    letter = Letter.objects.create(
        member=member, kind=kind, context=context, secret_context=secret_context, **_recipient_snapshot(member)
    )
    transaction.on_commit(lambda: letter_render_task.enqueue(letter.pk))
    return letter


def _letter_pdf_relative_path(letter: Letter) -> str:
    return f"{timezone.localtime(letter.created_at):%Y/%m}/letter-{letter.pk}.pdf"


def letter_render(*, letter_id) -> Letter | None:
    """Draw a queued letter, file its PDF (0600) and wipe its secret. Does nothing to any other letter."""
    with transaction.atomic():
        letter = Letter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None or letter.status != LetterStatus.QUEUED:
            return letter
        pdf, page_count = renderer_for(letter.kind).render(letter)
        relative_path = _letter_pdf_relative_path(letter)
        _write_private_file(settings.PORTAIL_LETTERS_DIR, relative_path, pdf)
        letter.pdf_path = relative_path
        letter.page_count = page_count
        letter.status = LetterStatus.RENDERED
        letter.rendered_at = timezone.now()
        letter.secret_context = {}
        letter.save(update_fields=["pdf_path", "page_count", "status", "rendered_at", "secret_context"])
    logger.info("Letter %s rendered (%s, %s page(s)).", letter.pk, letter.kind, page_count)
    return letter


# Print batches -----------------------------------------------------------------


def _manifest(letters: list[Letter]) -> bytes:
    """One row per letter: where it starts in the batch PDF and where it goes. Never a code or a NIR."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    first_page = 1
    for letter in letters:
        writer.writerow(
            [
                letter.pk,
                letter.kind,
                letter.recipient_name,
                letter.recipient_postal_code,
                letter.recipient_city,
                letter.page_count,
                first_page,
            ]
        )
        first_page += letter.page_count
    return buffer.getvalue().encode("utf-8")


def print_batch_export(*, created_by="") -> PrintBatch | None:
    """Put every rendered letter not yet in a batch into a new batch: one PDF to print and a CSV manifest.

    Returns None when there is nothing to print. A letter is never put in two batches: the letters are
    locked (rows another export holds are skipped where the database can) and only those still unbatched
    are taken.
    """
    with transaction.atomic():
        letters_to_print = Letter.objects.to_print().order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            letters_to_print = letters_to_print.select_for_update(skip_locked=True)
        else:
            letters_to_print = letters_to_print.select_for_update()
        letters = list(letters_to_print)
        if not letters:
            return None

        now = timezone.now()
        batch = PrintBatch.objects.create(created_by=created_by, letter_count=len(letters))
        name = f"{timezone.localtime(now):%Y/%m}/batch-{batch.pk}-{timezone.localtime(now):%Y%m%d-%H%M%S}"
        writer = PdfWriter()
        for letter in letters:
            writer.append(str(letter.pdf_file))
        pdf = io.BytesIO()
        writer.write(pdf)
        _write_private_file(settings.PORTAIL_PRINT_BATCHES_DIR, f"{name}.pdf", pdf.getvalue())
        _write_private_file(settings.PORTAIL_PRINT_BATCHES_DIR, f"{name}.csv", _manifest(letters))

        batch.pdf_path = f"{name}.pdf"
        batch.manifest_path = f"{name}.csv"
        batch.save(update_fields=["pdf_path", "manifest_path"])
        updated = (
            Letter.objects.to_print()
            .filter(pk__in=[letter.pk for letter in letters])
            .update(status=LetterStatus.BATCHED, batch=batch, batched_at=now)
        )
        if updated != len(letters):  # another export took some of them: undo this one
            for path in (batch.pdf_file, batch.manifest_file):
                path.unlink(missing_ok=True)
            raise RuntimeError("Letters changed while being batched; nothing was exported, run it again.")
    logger.info("Print batch %s exported with %s letter(s).", batch.pk, batch.letter_count)
    return batch


def print_batch_mark_posted(*, batch_id) -> PrintBatch:
    """Record that a printed batch went to La Poste: its letters are posted. Running it again changes nothing."""
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().get(pk=batch_id)
        if batch.posted_at is None:
            batch.posted_at = timezone.now()
            batch.save(update_fields=["posted_at"])
            letters = list(batch.letters.filter(status=LetterStatus.BATCHED).select_related("member"))
            batch.letters.filter(pk__in=[letter.pk for letter in letters]).update(
                status=LetterStatus.POSTED, posted_at=batch.posted_at
            )
            letters_posted.send(sender=PrintBatch, letters=letters)
    return batch


# E-mails -----------------------------------------------------------------------


def email_enqueue(*, to, subject, body, kind, member=None) -> Email:
    """Save an e-mail and send it once the transaction commits.

    Refuses (ValueError) a text holding 13 digits or more in a row: no NIR, and no code, ever goes by e-mail.
    """
    from portail.post.tasks import email_send_task

    validate_email(to)
    if LONG_DIGIT_RUN.search(subject) or LONG_DIGIT_RUN.search(body):
        raise ValueError("An e-mail must not hold a NIR or any long number.")
    if "\n" in subject or "\r" in subject:
        raise ValueError("An e-mail subject is one line.")
    email = Email.objects.create(to=to, subject=subject, body=body, kind=kind, member=member)
    transaction.on_commit(lambda: email_send_task.enqueue(email.pk))
    return email


def email_send(*, email_id) -> Email | None:
    """Send a saved e-mail with the default mailer, at most once.

    The row is claimed (queued or failed → sending) by one conditional UPDATE before anything is sent,
    so two workers never both send it, and a sent e-mail is never sent again. A failure is recorded
    (failed, last_error) and raised; calling this again retries it.
    """
    claimed = Email.objects.filter(pk=email_id, status__in=[EmailStatus.QUEUED, EmailStatus.FAILED]).update(
        status=EmailStatus.SENDING, attempts=F("attempts") + 1
    )
    email = Email.objects.filter(pk=email_id).first()
    if not claimed:
        return email
    try:
        EmailMessage(subject=email.subject, body=email.body, to=[email.to]).send()
    except Exception as error:
        email.status = EmailStatus.FAILED
        email.last_error = f"{type(error).__name__}: {error}"[:2000]
        email.save(update_fields=["status", "last_error"])
        logger.warning("E-mail %s failed (attempt %s): %s", email.pk, email.attempts, email.last_error)
        raise
    email.status = EmailStatus.SENT
    email.sent_at = timezone.now()
    email.last_error = ""
    email.save(update_fields=["status", "sent_at", "last_error"])
    return email


# Recovery after a crash ----------------------------------------------------------


@dataclass(frozen=True)
class OutboxRecovery:
    """What `outbox_recover` found and did."""

    letters_requeued: int
    emails_requeued: int
    emails_interrupted: list[int]
    emails_interrupted_requeued: bool
    temporary_files_removed: int


def outbox_recover(*, older_than: dt.timedelta, retry_failed_emails=False, resend_interrupted=False, now=None):
    """Enqueue again the letters and e-mails whose task was lost (a worker killed, a queue flushed).

    The database is the outbox: a letter still `queued` or an e-mail still `queued` some time after it
    was saved has lost its task, or waits behind a long queue. Enqueuing it again is always safe:
    `letter_render` and `email_send` do nothing to a letter or e-mail already done, so a second task
    for the same row is a no-op.

    An e-mail left `sending` was claimed by a worker that died while handing it to the mail server:
    nobody can tell whether it left. It is only reported (at most once), unless `resend_interrupted`
    says to send it again (at least once). Failed e-mails are enqueued again with `retry_failed_emails`.
    Temporary files that a killed render left beside the letters are removed.
    """
    from portail.post.tasks import email_send_task, letter_render_task

    now = now or timezone.now()
    cutoff = now - older_than
    letters = Letter.objects.filter(status=LetterStatus.QUEUED, created_at__lte=cutoff)
    letter_ids = list(letters.order_by("pk").values_list("pk", flat=True))
    for letter_id in letter_ids:
        letter_render_task.enqueue(letter_id)

    emails = Email.objects.filter(created_at__lte=cutoff)
    interrupted = list(emails.filter(status=EmailStatus.SENDING).order_by("pk").values_list("pk", flat=True))
    if interrupted:
        logger.warning(
            "%s e-mail(s) were being sent when their worker stopped (%s): %s.",
            len(interrupted),
            "sending them again" if resend_interrupted else "not sent again, check them",
            ", ".join(str(pk) for pk in interrupted),
        )
    email_ids = set(emails.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True))
    if retry_failed_emails:
        email_ids |= set(emails.filter(status=EmailStatus.FAILED).values_list("pk", flat=True))
    if resend_interrupted and interrupted:
        # email_send claims queued or failed e-mails only: mark them failed so that they can be claimed.
        Email.objects.filter(pk__in=interrupted, status=EmailStatus.SENDING).update(
            status=EmailStatus.FAILED, last_error="Interrupted while sending (worker stopped); sent again."
        )
        email_ids |= set(interrupted)
    for email_id in sorted(email_ids):
        email_send_task.enqueue(email_id)

    removed = 0
    letters_dir = Path(settings.PORTAIL_LETTERS_DIR)
    if letters_dir.is_dir():
        for temporary in letters_dir.rglob(".tmp-*"):
            modified = dt.datetime.fromtimestamp(temporary.stat().st_mtime, tz=dt.UTC)
            if modified <= cutoff:
                temporary.unlink(missing_ok=True)
                removed += 1

    if letter_ids or email_ids or removed:
        logger.warning(
            "Outbox recovery: %s letter(s) and %s e-mail(s) enqueued again, %s temporary file(s) removed.",
            len(letter_ids),
            len(email_ids),
            removed,
        )
    return OutboxRecovery(
        letters_requeued=len(letter_ids),
        emails_requeued=len(email_ids),
        emails_interrupted=interrupted,
        emails_interrupted_requeued=resend_interrupted,
        temporary_files_removed=removed,
    )
