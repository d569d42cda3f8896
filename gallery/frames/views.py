"""Frame views: the kiosk page and its endpoints (frame secret, no user), and the gallery's frames pages."""

import io
import ipaddress
from datetime import datetime

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gallery.frames import auth, events, pairing, schedules, scheduling, state
from gallery.frames import status as frame_status
from gallery.frames.forms import CommandForm, FrameForm, PairCodeForm, PairForm, PreviewForm, ScheduleForm
from gallery.frames.models import Frame, FrameSchedule, Playlist
from gallery.media import variant_response
from gallery.models import Variant
from gallery.proxies import client_network

# ---------------------------------------------------------------------------------------------------------------
# The frame's side. A browser is either a paired frame (secret cookie), or shows a pairing code.


@login_not_required
@never_cache
def frame_page(request):
    frame = auth.frame_for_secret(request.COOKIES.get(auth.FRAME_COOKIE))
    if frame is not None:
        request.frame = frame
        response = render(request, "frame/show.html", {"frame": frame})
        auth.renew_if_due(request, response)
        return response
    shown = pairing.pairing_for_claim(request.COOKIES.get(pairing.CLAIM_COOKIE))
    if shown is not None and shown.confirmed_at is not None:
        claimed = pairing.claim_secret(shown)
        if claimed is not None:
            _, secret = claimed
            response = redirect("frame")
            auth.set_secret_cookie(response, secret)
            response.delete_cookie(pairing.CLAIM_COOKIE, samesite="Strict")
            return response
    now = timezone.now()
    claim = None
    if shown is None or shown.confirmed_at is not None or shown.expires_at <= now:
        try:
            shown, claim = pairing.start_pairing(
                request.META.get("REMOTE_ADDR", ""), request.headers.get("User-Agent", "")
            )
        except pairing.TooManyWaiting:
            response = HttpResponse("Too many frames are waiting to be paired; try again in a few minutes.", status=429)
            response["Retry-After"] = "600"
            return response
    context = {
        "pairing": shown,
        "expires_in": max(1, int((shown.expires_at - now).total_seconds())),
        "pair_url": request.build_absolute_uri(reverse("frame-pair")),
    }
    response = render(request, "frame/pair.html", context)
    if claim is not None:
        pairing.set_claim_cookie(response, claim)
    if request.COOKIES.get(auth.FRAME_COOKIE):
        response.delete_cookie(auth.FRAME_COOKIE, samesite="Strict")  # revoked: forget it
    return response


@login_not_required
@never_cache
def frame_qr(request):
    """The approve link of the code this browser shows, as a QR code for a phone (SVG, rendered here)."""
    shown = pairing.pairing_for_claim(request.COOKIES.get(pairing.CLAIM_COOKIE))
    if shown is None or shown.confirmed_at is not None or shown.expires_at <= timezone.now():
        raise PermissionDenied("This browser shows no pairing code.")
    link = request.build_absolute_uri(reverse("frame-pair") + f"?code={shown.code}")
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


@auth.frame_required
@never_cache
def frame_state(request):
    """The whole state as JSON, as the websocket sends it (the frame reports its screen over the websocket)."""
    return JsonResponse(state.read_state(request.frame).message)


@auth.frame_required
def frame_variant(request, pk, name):
    """A variant file, only when its photo is in the playlist the frame shows now."""
    variant = Variant.objects.filter(pk=pk).first()
    if variant is None or variant.file.rsplit("/", 1)[-1] != name:
        raise Http404()
    if not state.frame_may_see_photo(request.frame, variant.photo_id):
        raise Http404()
    return variant_response(variant.file, variant.location, request)


# ---------------------------------------------------------------------------------------------------------------
# The gallery's side (logged-in users).


def frame_list(request):
    frames = list(Frame.objects.select_related("playlist", "showing").prefetch_related("showing__variants"))
    now = timezone.now()
    for frame in frames:
        frame.online = frame_status.is_online(frame, now)
    return render(request, "frames/list.html", {"frames": frames, "playlists": Playlist.objects.all()})


def frame_pair(request):
    """Pairing, in steps that a phished code cannot skip: the code (a QR link may fill it in), then who asked for
    it (address, browser, how long ago) beside what it becomes, then, for an existing frame, an explicit yes."""
    step = request.POST.get("step") if request.method == "POST" else None
    if step == "pair":
        form = PairForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if data["replace"] is not None and not data["confirm_replace"]:
                return _pair_page(request, "replace", form)
            try:
                frame = pairing.pair_frame(
                    code=data["code"],
                    name=(data["name"] or "").strip(),
                    playlist=data["playlist"],
                    replace=data["replace"],
                )
            except pairing.PairingError as exc:
                form.add_error("code", str(exc))
            else:
                messages.success(request, f"Paired {frame}. It starts its slideshow in a moment.")
                return redirect("frames")
        if "code" in form.errors:  # gone meanwhile (expired, used): start again
            return _pair_page(request, "code", PairCodeForm(request.POST))
        return _pair_page(request, "review", form)
    if step == "review":
        form = PairCodeForm(request.POST)
        if form.is_valid():
            return _pair_page(request, "review", PairForm(initial={"code": form.cleaned_data["code"]}))
        return _pair_page(request, "code", form)
    return _pair_page(request, "code", PairCodeForm(initial={"code": request.GET.get("code", "")}))


def _pair_page(request, step: str, form, status_code: int = 200):
    context = {"step": step, "form": form}
    code = (
        form.cleaned_data.get("code") if form.is_bound and hasattr(form, "cleaned_data") else form.initial.get("code")
    )
    pairing_code = pairing.open_code(code) if step != "code" and code else None
    if pairing_code is not None:
        context.update(
            pairing=pairing_code,
            browser=describe_browser(pairing_code.user_agent),
            origin=describe_origin(pairing_code.requested_from, request.META.get("REMOTE_ADDR", "")),
            replacing=form.cleaned_data.get("replace") if step == "replace" else None,
        )
    return render(request, "frames/pair.html", context, status=status_code)


def describe_origin(address: str, mine: str) -> str:
    """Where the code was asked from, next to where this admin is: a stranger's network is the tell of a phished
    code."""
    if not address:
        return "The address was not recorded."
    if client_network(address) == client_network(mine):
        return "The same address as this browser: the same household or office, behind one router."
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.is_loopback:
        return "This server itself."
    if ip.is_private:
        return "An address on a local network."
    return "An address on the internet, not this browser's: make sure it is your frame."


def describe_browser(user_agent: str) -> str:
    """ "Chrome on Linux" from a User-Agent, for a person to recognise their frame; the raw string is shown too."""
    agent = user_agent or ""
    browser = next(
        (name for token, name in BROWSERS if token in agent),
        "An unknown browser" if agent else "A browser that did not say which",
    )
    system = next((name for token, name in SYSTEMS if token in agent), "")
    return f"{browser} on {system}" if system else browser


# Checked in order: Edge and Opera say Chrome too, Chrome says Safari too, Android says Linux too.
BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "an iPhone"),
    ("iPad", "an iPad"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("aarch64", "Linux on ARM (a Raspberry Pi?)"),
    ("armv7", "Linux on ARM (a Raspberry Pi?)"),
    ("Linux", "Linux"),
]


def frame_detail(request, pk):
    frame = get_object_or_404(Frame.objects.select_related("playlist"), pk=pk)
    form = FrameForm(request.POST or None, instance=frame, prefix="frame")
    if request.method == "POST" and form.is_valid():
        form.save()
        scheduling.settings_changed(frame)
        messages.success(request, f"Saved {frame}.")
        return redirect(frame)
    return _detail_page(request, frame, form=form, status_code=400 if form.errors else 200)


def _detail_page(request, frame: Frame, *, form=None, schedule_form=None, status_code: int = 200):
    """The frame's page; a form that did not validate comes back with its errors at its fields and its values."""
    rows = list(FrameSchedule.objects.filter(frame=frame).select_related("playlist"))
    for row in rows:
        row.days = schedules.describe_weekdays(schedules.parse_weekdays(row.weekdays))
    preview_form = PreviewForm(request.GET or None)
    preview = None
    if request.GET and preview_form.is_valid():
        decision = schedules.program_for(
            state.windows_of(frame),
            default_playlist_id=frame.playlist_id,
            weekday=preview_form.cleaned_data["weekday"],
            at=preview_form.cleaned_data["at"],
        )
        preview = _describe(decision, rows)
    now_decision = state.program(frame)
    context = {
        "frame": frame,
        "form": form or FrameForm(instance=frame, prefix="frame"),
        "schedules": rows,
        "schedule_form": schedule_form or ScheduleForm(prefix="schedule"),
        "preview_form": preview_form,
        "preview": preview,
        "now": _describe(now_decision, rows),
        "local_now": datetime.now(state.zone_of(frame)),
        "online": frame_status.is_online(frame),
    }
    return render(request, "frames/detail.html", context, status=status_code)


def _describe(decision: schedules.Program, rows: list[FrameSchedule]) -> str:
    window = next((row for row in rows if row.pk == decision.window_id), None)
    if decision.blank:
        what = "a blank screen"
    elif decision.playlist_id:
        playlist = Playlist.objects.filter(pk=decision.playlist_id).first()
        what = f"the playlist “{playlist}”" if playlist else "nothing"
    else:
        what = "nothing (no playlist assigned)"
    what = what[0].upper() + what[1:]
    if window is None:
        return f"{what}: no window applies, so the default playlist."
    return (
        f"{what}, from the window “{window.days} {window.start:%H:%M}–{window.end:%H:%M}” (priority {window.priority})."
    )


@require_POST
def frame_schedule_add(request, pk):
    frame = get_object_or_404(Frame, pk=pk)
    form = ScheduleForm(request.POST, prefix="schedule")
    if not form.is_valid():
        return _detail_page(request, frame, schedule_form=form, status_code=400)
    schedule = form.save(commit=False)
    schedule.frame = frame
    schedule.save()
    scheduling.settings_changed(frame)
    messages.success(request, "Added the time window.")
    return redirect(frame)


@require_POST
def frame_schedule_delete(request, pk, schedule_pk):
    frame = get_object_or_404(Frame, pk=pk)
    FrameSchedule.objects.filter(frame=frame, pk=schedule_pk).delete()
    scheduling.settings_changed(frame)
    messages.success(request, "Removed the time window.")
    return redirect(frame)


@require_POST
def frame_command(request, pk):
    frame = get_object_or_404(Frame, pk=pk)
    form = CommandForm(request.POST)
    if form.is_valid():
        events.command(frame.pk, form.cleaned_data["command"])
    if request.htmx:
        return HttpResponse(status=204 if form.is_valid() else 400)
    return redirect("frames")


def frame_revoke(request, pk):
    """Revoke the frame's access, once confirmed (the page's dialog, or this confirmation page)."""
    frame = get_object_or_404(Frame, pk=pk)
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        pairing.revoke_frame(frame=frame)
        messages.success(request, f"Revoked {frame}. It shows a pairing code again; pair it to bring it back.")
        return redirect(frame)
    return render(request, "frames/revoke.html", {"frame": frame})


def frame_delete(request, pk):
    frame = get_object_or_404(Frame, pk=pk)
    if request.method == "POST":
        pairing.delete_frame(frame=frame)
        messages.success(request, f"Deleted {frame}.")
        return redirect("frames")
    return render(request, "frames/delete.html", {"object": frame, "kind": "frame", "cancel": frame.get_absolute_url()})
