from django import forms

from gallery.sharing import links

EXPIRY_CHOICES = [("", "Never"), ("1", "In 1 day"), ("7", "In 7 days"), ("30", "In 30 days"), ("365", "In a year")]


class NewLinkForm(forms.Form):
    expires_in_days = forms.TypedChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )
    allow_download = forms.BooleanField(
        label="Allow downloads", required=False, help_text="Full resolution, without location or camera details."
    )
    password = forms.CharField(
        label="Password",
        required=False,
        min_length=links.MIN_PASSWORD,
        max_length=links.MAX_PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Optional. Visitors type it once per browser.",
    )


class UnlockForm(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=links.MAX_PASSWORD,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
