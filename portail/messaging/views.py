"""The member's secure messaging: the list of threads, a new message, one thread (read + reply), a file.

Every thread and attachment is looked up among the requesting member's own (`for_member`): another
member's id is a 404, exactly like an id that does not exist.
"""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from portail.accounts.decorators import member_view
from portail.messaging import services
from portail.messaging.forms import ReplyForm, ThreadStartForm
from portail.messaging.models import Attachment, Message, Thread


@member_view
def thread_list_view(request):
    threads = Thread.objects.for_member(request.member).newest_activity_first()
    return render(request, "messaging/thread_list.html", {"threads": threads})


@member_view
def thread_new_view(request):
    form = ThreadStartForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        thread = services.thread_start(
            member=request.member,
            topic=form.cleaned_data["topic"],
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            attachment=form.cleaned_data["attachment"],
            now=timezone.now(),
        )
        messages.success(request, _("Votre message est envoyé. La caisse vous répond dans cette messagerie."))
        return redirect("messaging:thread", thread_id=thread.pk)
    return render(request, "messaging/thread_new.html", {"form": form})


@member_view
def thread_view(request, thread_id):
    """The whole thread; opening it marks it read. A POST is the member's reply (refused when closed)."""
    thread = get_object_or_404(Thread.objects.for_member(request.member), pk=thread_id)
    form = None if thread.is_closed else ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form is None:
            messages.error(request, _("Cette conversation est close : écrivez un nouveau message."))
            return redirect("messaging:thread", thread_id=thread.pk)
        if form.is_valid():
            try:
                services.message_reply_by_member(
                    thread=thread,
                    body=form.cleaned_data["body"],
                    attachment=form.cleaned_data["attachment"],
                    now=timezone.now(),
                )
            except services.ThreadClosed:
                messages.error(request, _("Cette conversation vient d'être close : écrivez un nouveau message."))
            else:
                messages.success(request, _("Votre réponse est envoyée."))
            return redirect("messaging:thread", thread_id=thread.pk)
    thread_messages = list(Message.objects.filter(thread=thread).in_order().prefetch_related("attachments"))
    read_until = thread.member_last_read_at
    new_message_ids = {
        message.pk
        for message in thread_messages
        if not message.by_member and (read_until is None or message.created_at > read_until)
    }
    thread = services.thread_mark_read_by_member(thread=thread, now=timezone.now())
    return render(
        request,
        "messaging/thread_detail.html",
        {"thread": thread, "thread_messages": thread_messages, "form": form, "new_message_ids": new_message_ids},
    )


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file itself, as a download with the type found from its content; never shown inline.
    The member's view below and the agents' inbox both answer with it."""
    try:
        file = attachment.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(
        file, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@member_view
def attachment_view(request, attachment_id):
    return attachment_response(get_object_or_404(Attachment.objects.for_member(request.member), pk=attachment_id))
