"""The People page (staff): invite, deactivate, change roles; and the invite page that makes an account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from gallery.forms import FirstAccountForm
from gallery.people import invites
from gallery.people.forms import InviteForm, PersonForm
from gallery.people.models import Invite
from gallery.permissions import staff_required


@staff_required
def people(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite = invites.create_invite(by=request.user, **form.cleaned_data)
        messages.success(request, "Invite made. Copy its link below and send it; it works once.")
        return redirect(f"{reverse('people')}?new={invite.pk}")
    accounts = (
        get_user_model()
        .objects.annotate(photo_count=Count("photo", filter=Q(photo__trashed_at__isnull=True)))
        .order_by("-is_active", "-is_staff", "username")
    )
    new_id = request.GET.get("new", "")
    pending = [
        (invite, request.build_absolute_uri(invite.get_absolute_url()), str(invite.pk) == new_id)
        for invite in Invite.objects.pending().select_related("created_by")
    ]
    context = {"accounts": accounts, "invites": pending, "form": form}
    return render(request, "people/people.html", context, status=400 if form.errors else 200)


@staff_required
@require_POST
def person_change(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    form = PersonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That is not something this page can do.")
        return redirect("people")
    action = form.cleaned_data["action"]
    try:
        if action in ("deactivate", "activate"):
            invites.set_active(actor=request.user, user=person, active=action == "activate")
        else:
            invites.set_staff(actor=request.user, user=person, staff=action == "staff")
    except invites.ChangeRefused as exc:
        messages.error(request, str(exc))
        return redirect("people")
    done = {
        "deactivate": f"{person.username} can no longer log in; their photos and albums stay.",
        "activate": f"{person.username} can log in again.",
        "staff": f"{person.username} is now staff.",
        "member": f"{person.username} is now a member.",
    }
    messages.success(request, done[action])
    return redirect("people")


@staff_required
@require_POST
def invite_revoke(request, pk):
    invite = get_object_or_404(Invite, pk=pk)
    invites.revoke(invite)
    messages.success(request, "Invite revoked: its link makes no account now.")
    return redirect("people")


@login_not_required
def accept_invite(request, token):
    invite = invites.pending_invite(token)
    if invite is None:
        raise Http404("This invite has expired, was revoked, or has made its account already.")
    form = FirstAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invites.accept(token=token, form=form)
        except invites.InviteRefused:
            raise Http404("This invite has just been used.") from None
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}.")
        return redirect("home")
    status = 400 if form.errors else 200
    return render(request, "people/accept.html", {"form": form, "invite": invite}, status=status)
