from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class TokenAuthenticationForm(AuthenticationForm):
    remember = forms.BooleanField(label=_("Remember me"), required=False)
