from django import forms

from gallery.people.invites import MAX_DAYS

DAY_CHOICES = [(1, "1 day"), (7, "7 days"), (30, "30 days"), (MAX_DAYS, f"{MAX_DAYS} days")]


class InviteForm(forms.Form):
    note = forms.CharField(
        label="Who is it for?", max_length=100, required=False, help_text="Only staff see this, to tell invites apart."
    )
    days = forms.TypedChoiceField(label="Works for", choices=DAY_CHOICES, coerce=int, initial=7)
    make_staff = forms.BooleanField(
        label="Staff account", required=False, help_text="Staff also run frames and playlists, and manage people."
    )


class PersonForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("deactivate", "Deactivate"),
            ("activate", "Activate"),
            ("staff", "Make staff"),
            ("member", "Make member"),
        ]
    )
