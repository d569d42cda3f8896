"""Forms of the frames and playlists pages."""

import zoneinfo
from functools import lru_cache

from django import forms

from gallery.forms import IdListField, SelectionForm
from gallery.frames import pairing, schedules
from gallery.frames.models import Frame, FrameSchedule, Playlist
from gallery.models import Album

WEEKDAY_CHOICES = [(str(day), name) for day, name in enumerate(schedules.WEEKDAYS)]


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PairCodeForm(forms.Form):
    """Pairing, first step: the code the frame shows. The QR code's link may fill it in; it never skips a step."""

    code = forms.CharField(max_length=16, label="Code shown on the frame")

    def clean_code(self):
        code = pairing.normalise_code(self.cleaned_data["code"])
        if pairing.open_code(code) is None:
            raise forms.ValidationError("That code is unknown, expired or already used. Codes last ten minutes.")
        return code


class PairForm(PairCodeForm):
    """Pairing, once the person has seen which browser asked for the code: what it becomes. Making it an existing
    frame needs one more explicit yes (confirm_replace), since the old one stops working."""

    name = forms.CharField(max_length=100, label="Frame name", required=False)
    playlist = forms.ModelChoiceField(Playlist.objects.all(), required=False, empty_label="No playlist yet")
    replace = forms.ModelChoiceField(
        Frame.objects.all(),
        required=False,
        empty_label="A new frame",
        label="This is",
        help_text="Pairing an existing frame again keeps its settings and gives it a new secret; the old one stops "
        "working.",
    )
    confirm_replace = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("replace") and not (cleaned.get("name") or "").strip():
            self.add_error("name", "Name the frame, e.g. “Kitchen”.")
        return cleaned


class FrameForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices)

    class Meta:
        model = Frame
        fields = ["name", "playlist", "time_zone"]
        labels = {"playlist": "Default playlist"}
        help_texts = {"playlist": "What the frame shows when no time window applies."}


class ScheduleForm(forms.ModelForm):
    weekdays = forms.MultipleChoiceField(choices=WEEKDAY_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = FrameSchedule
        fields = ["weekdays", "start", "end", "action", "playlist", "priority"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean_weekdays(self):
        return "".join(sorted(set(self.cleaned_data["weekdays"])))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == FrameSchedule.Action.PLAYLIST and not cleaned.get("playlist"):
            self.add_error("playlist", "Choose the playlist this window shows.")
        if cleaned.get("action") == FrameSchedule.Action.BLANK:
            cleaned["playlist"] = None
        return cleaned


class PreviewForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=WEEKDAY_CHOICES, coerce=int)
    at = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))


class CommandForm(forms.Form):
    command = forms.ChoiceField(choices=[("next", "Next"), ("previous", "Previous"), ("refresh", "Refresh")])


class PlaylistForm(forms.ModelForm):
    class Meta:
        model = Playlist
        fields = ["name", "interval", "transition", "shuffle", "captions"]
        labels = {"interval": "Seconds per photo", "captions": "Show date and album"}
        widgets = {"interval": forms.NumberInput(attrs={"min": 3, "max": 86400})}

    def clean_interval(self):
        interval = self.cleaned_data["interval"]
        if interval < 3:
            raise forms.ValidationError("At least 3 seconds.")
        return interval


class PlaylistNameForm(forms.ModelForm):
    class Meta:
        model = Playlist
        fields = ["name"]
        labels = {"name": "Playlist name"}
        error_messages = {"name": {"required": "Give the playlist a name."}}
        widgets = {"name": forms.TextInput(attrs={"placeholder": "Living room"})}


class IdListForm(forms.Form):
    """Photo ids (adding a selection) or item ids (a new order)."""

    id = IdListField()


class MoveForm(forms.Form):
    item = forms.IntegerField()
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down"), ("top", "Top"), ("bottom", "Bottom")])


class PlaylistAlbumForm(forms.Form):
    album = forms.ModelChoiceField(Album.objects.all(), empty_label="Choose an album")
    mode = forms.ChoiceField(
        choices=[("follow", "All of the album, kept in sync"), ("copy", "The album's photos as they are now")],
        initial="follow",
    )


class PlaylistSelectionForm(SelectionForm):
    """The library toolbar's "Add to playlist": a selection (ids, or a view's scope) and the playlist."""

    playlist = forms.ModelChoiceField(
        Playlist.objects.all(),
        error_messages={"required": "Choose a playlist.", "invalid_choice": "That playlist is gone."},
    )
