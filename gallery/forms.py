from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from gallery import albums
from gallery.models import Album, Photo


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


class BulkForm(forms.Form):
    ACTIONS = [
        ("add", "Add to album"),
        ("remove", "Remove from album"),
        ("delete", "Delete"),
        ("download", "Download"),
        ("cover", "Use as cover"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    photo = IdListField()
    album = forms.ModelChoiceField(Album.objects.all(), required=False)
    confirmed = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in ("add", "remove", "cover") and not cleaned.get("album"):
            self.add_error("album", "Choose an album.")
        return cleaned


class KeepForm(forms.Form):
    keep = IdListField(required=False)
    group = IdListField()
    dismiss = forms.BooleanField(required=False)  # "Not duplicates"
