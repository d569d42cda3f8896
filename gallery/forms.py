from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from gallery.models import Album, Photo


class FirstAccountForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; for password resets later.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class AlbumForm(forms.Form):
    name = forms.CharField(max_length=200, label="Album name")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the album a name.")
        return name


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
    photo = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={"required": "Select photos first."})
    album = forms.ModelChoiceField(Album.objects.all(), required=False)
    confirmed = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; unknown ids simply match no rows.
        self.fields["photo"].valid_value = lambda value: True

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in ("add", "remove", "cover") and not cleaned.get("album"):
            self.add_error("album", "Choose an album.")
        return cleaned


class KeepForm(forms.Form):
    keep = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=False)
    group = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("keep", "group"):
            self.fields[name].valid_value = lambda value: True
