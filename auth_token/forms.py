from datetime import timedelta

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from auth_token import scopes
from auth_token.conf import settings
from auth_token.services import NO_EXPIRY


class TokenAuthenticationForm(AuthenticationForm):
    remember = forms.BooleanField(label=_("Remember me"), required=False)


class PersonalTokenForm(forms.Form):
    """A new personal access token: its name, scopes and lifetime (``services`` decides)."""

    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What it is for, e.g. “deploy script”.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("What it may do. None ticked: everything you can do."),
    )
    expires_in = forms.ChoiceField(label=_("Expires"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [
            (name, f"{name}: {description}") for name, description in scopes.declared().items()
        ]
        longest = settings.PAT_MAX_AGE // 86400
        days = sorted({d for d in (7, 30, 90) if d < longest} | {longest})
        choices = [(str(d), _("in %(days)d days") % {"days": d}) for d in days]
        if settings.PAT_ALLOW_NO_EXPIRY:
            choices.append(("never", _("never")))
        self.fields["expires_in"].choices = choices
        self.fields["expires_in"].initial = str(days[0])

    def expires_at(self):
        value = self.cleaned_data["expires_in"]
        return NO_EXPIRY if value == "never" else timezone.now() + timedelta(days=int(value))
