"""The admin's forms that choose cameras for a plate list: only cameras that can hold plates."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera

from .. import services
from ..models import ListType


class AnprCamerasField(forms.ModelMultipleChoiceField):
    """Offers the ANPR-capable cameras the user may manage; a camera the user may manage but that
    cannot hold plates is refused with the reason (the scope service's), not "not a valid choice"."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Camera.objects.none(), widget=forms.CheckboxSelectMultiple, **kwargs)
        self.manageable = Camera.objects.none()

    def restrict_to(self, user) -> None:
        self.manageable = Camera.objects.manageable_by(user).filter(is_active=True)
        self.queryset = services.anpr_capable(self.manageable).order_by("name", "pk")

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except ValidationError:
            pks = [v for v in value if str(v).isdigit()]
            refused = list(self.manageable.filter(pk__in=pks).exclude(pk__in=self.queryset.values("pk")))
            if refused:
                raise ValidationError([services.not_anpr_reason(c) for c in refused], code="not_anpr") from None
            raise

    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.address})" if obj.name else obj.address


class CameraChoiceForm(forms.Form):
    """A form whose camera choices are the ANPR cameras the signed-in user may manage, nothing more."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cameras"].restrict_to(user)


class CamerasForm(CameraChoiceForm):
    cameras = AnprCamerasField(label=_("Cameras"))


class ImportForm(CameraChoiceForm):
    file = forms.FileField(label=_("CSV file"), help_text=_("A camera's export, or our normalised CSV."))
    list_type = forms.ChoiceField(
        choices=ListType.choices,
        initial=ListType.ALLOW,
        label=_("List for plates new here"),
        help_text=_("Used when the file has no list column."),
    )
    cameras = AnprCamerasField(required=False, label=_("Push to cameras"))
    replace = forms.BooleanField(
        required=False,
        label=_("Replace these cameras' lists"),
        help_text=_("Plates not in the file are taken off the chosen cameras (a removal job)."),
    )
    confirm_wipe = forms.BooleanField(
        required=False,
        label=_("Confirm a wipe"),
        help_text=_("Needed when replacing would take more than half of a camera's list (over 10 plates) off it."),
    )
