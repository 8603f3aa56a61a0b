"""Background tasks: they take ids and call a service (enqueued with transaction.on_commit by the services)."""

from django.tasks import task

from portail.post import services


@task
def letter_render_task(letter_id: int) -> None:
    services.letter_render(letter_id=letter_id)


@task
def email_send_task(email_id: int) -> None:
    services.email_send(email_id=email_id)
