from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.http import QueryDict

from gallery import albums
from gallery.models import Album, Photo
from gallery.search import FilterError, PhotoFilter


class FirstAccountForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; for password resets later.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class IdListField(forms.TypedMultipleChoiceField):
    """Row ids, any whole number accepted: an id that names no row simply matches nothing."""

    def __init__(self, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("error_messages", {"required": "Select photos first."})
        super().__init__(choices=[], **kwargs)

    def valid_value(self, value) -> bool:
        return True


class IdCsvField(forms.CharField):
    """Row ids as one comma-separated value ("3,5,8"): a selection of thousands is one field, far below
    DATA_UPLOAD_MAX_NUMBER_FIELDS."""

    def to_python(self, value) -> list[int]:
        value = super().to_python(value)
        try:
            return [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("That is not a list of photos.") from None


class PushedPhotosForm(forms.Form):
    """Photos pushed to a filtered library page that it does not show yet: it asks which of them match
    (static/js/live.js); at most MAX of them at a time."""

    MAX = 500
    photos = IdCsvField()

    def clean_photos(self) -> list[int]:
        ids = self.cleaned_data["photos"]
        if len(ids) > self.MAX:
            raise forms.ValidationError(f"Ask about at most {self.MAX} photos at a time.")
        return ids


def scope_photos(scope: str):
    """Every photo a view shows: "library", "trash" or "album:<id>"."""
    if scope == "trash":
        return Photo.all_objects.in_trash()
    if scope.startswith("album:"):
        return Photo.objects.filter(album_memberships__album_id=int(scope.removeprefix("album:")))
    return Photo.objects.all()


class SelectionForm(forms.Form):
    """The photos a selection names: ticked boxes (`photo`, the form without JavaScript), ids (`ids`, from the
    selection script), or everything a view shows (`scope`, "Select all": resolved here, not from the tiles loaded
    so far) less `exclude`; with `filters` (a filtered view's query: gallery/search.py) only what they keep, for
    `user` (favourites are each account's own). cleaned_data["photo_ids"] is the sorted union."""

    photo = IdListField(required=False)
    ids = IdCsvField(required=False)
    scope = forms.RegexField(r"^(library|trash|album:\d{1,18})$", required=False)
    exclude = IdCsvField(required=False)
    filters = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        ids = set(cleaned.get("photo") or []) | set(cleaned.get("ids") or [])
        if cleaned.get("scope"):
            everything = scope_photos(cleaned["scope"])
            if cleaned.get("filters"):
                if self.user is None:
                    raise forms.ValidationError("A filtered selection needs an account.")
                try:
                    everything = PhotoFilter.from_query(QueryDict(cleaned["filters"])).apply(everything, self.user)
                except FilterError as exc:
                    raise forms.ValidationError(str(exc)) from None
            ids |= set(everything.values_list("pk", flat=True)) - set(cleaned.get("exclude") or [])
        if not ids and not self.errors:
            raise forms.ValidationError("Select photos first.")
        cleaned["photo_ids"] = sorted(ids)
        return cleaned


class AlbumForm(forms.ModelForm):
    class Meta:
        model = Album
        fields = ["name"]
        labels = {"name": "Album name"}
        error_messages = {"name": {"required": "Give the album a name."}}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if other := albums.name_taken(name, album=self.instance if self.instance.pk else None):
            raise forms.ValidationError(str(albums.AlbumNameTaken(other.name)))
        return name

    def validate_unique(self):
        pass  # clean_name says it in words; name_key is the database's guard


class NewAlbumForm(AlbumForm):
    class Meta(AlbumForm.Meta):
        widgets = {"name": forms.TextInput(attrs={"placeholder": "Summer 2026"})}


class UploadAlbumForm(forms.Form):
    album = forms.ModelChoiceField(Album.objects.all(), required=False, empty_label="Library only")


class RotateForm(forms.Form):
    direction = forms.ChoiceField(choices=[("left", "Rotate left"), ("right", "Rotate right")])

    @property
    def degrees(self) -> int:
        return -90 if self.cleaned_data["direction"] == "left" else 90


class PhotoAlbumForm(forms.Form):
    album = forms.ModelChoiceField(Album.objects.all(), empty_label="Choose an album")


class CoverForm(forms.Form):
    photo = forms.ModelChoiceField(Photo.objects.all(), required=False)


class BulkForm(SelectionForm):
    ACTIONS = [
        ("add", "Add to album"),
        ("new-album", "New album from the selection"),
        ("remove", "Remove from album"),
        ("delete", "Move to the trash"),
        ("download", "Download"),
        ("cover", "Use as cover"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    album = forms.ModelChoiceField(
        Album.objects.all(), required=False, error_messages={"invalid_choice": "That album is gone."}
    )
    # The album page's album: what "Remove from album" and "Use as cover" act on (`album` names the one to add to).
    in_album = forms.ModelChoiceField(Album.objects.all(), required=False)
    name = forms.CharField(max_length=200, required=False)  # of the new album

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action in ("remove", "cover") and cleaned.get("in_album"):
            cleaned["album"] = cleaned["in_album"]
        if action in ("add", "remove", "cover") and not cleaned.get("album"):
            self.add_error("album", "Choose an album.")
        if action == "new-album":
            album_form = NewAlbumForm({"name": cleaned.get("name", "")})
            if album_form.is_valid():
                cleaned["name"] = album_form.cleaned_data["name"]
            else:
                self.add_error("name", album_form.errors["name"])
        return cleaned


class KeepForm(forms.Form):
    keep = IdListField(required=False)
    group = IdListField()
    dismiss = forms.BooleanField(required=False)  # "Not duplicates"
    confirmed = forms.BooleanField(required=False)  # the page said how many go to the trash
