"""Jobs' parameters and drift as a person reads them: sentences, not JSON."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import PlateJob

NAMED = 10  # plates named before "and N more"


def plates_in_words(numbers: list[str], limit: int = NAMED) -> str:
    shown = ", ".join(numbers[:limit])
    more = len(numbers) - limit
    if more > 0:
        shown = ngettext("%(names)s and %(n)d more", "%(names)s and %(n)d more", more) % {"names": shown, "n": more}
    return shown


def describe_params(job: PlateJob) -> str:
    """What the job was asked to do, in a sentence or two."""
    params = job.params or {}
    parts: list[str] = []
    if plates := params.get("plates"):
        parts.append(
            ngettext("%(n)d plate: %(plates)s.", "%(n)d plates: %(plates)s.", len(plates))
            % {"n": len(plates), "plates": plates_in_words(plates)}
        )
    if renames := params.get("renames"):
        pairs = [f"{old} → {new}" for old, new in renames]
        parts.append(
            ngettext("%(n)d rename: %(pairs)s.", "%(n)d renames: %(pairs)s.", len(pairs))
            % {"n": len(pairs), "pairs": plates_in_words(pairs)}
        )
    if "specs" in params:
        specs = params["specs"]
        parts.append(
            ngettext(
                "%(n)d plate from the backup: %(plates)s.", "%(n)d plates from the backup: %(plates)s.", len(specs)
            )
            % {"n": len(specs), "plates": plates_in_words([s[0] for s in specs])}
        )
        if params.get("backup"):
            parts.append(_("Backup #%(id)s.") % {"id": params["backup"]})
        parts.append(
            _("Replacing the cameras' lists.") if params.get("replace_all") else _("Adding and correcting only.")
        )
    if "converge" in params:
        parts.append(
            _("Make the cameras match their lists.") if params["converge"] else _("Read the cameras and report drift.")
        )
        if params.get("adopt_unexpected"):
            parts.append(_("Plates on a camera and not on its list are taken into the list."))
        if params.get("remove_unexpected"):
            parts.append(_("Plates not on their lists are removed."))
        if params.get("allow_empty"):
            parts.append(_("An empty list is allowed."))
    if params.get("confirm_wipe"):
        parts.append(_("A wipe was confirmed."))
    return " ".join(parts) or _("No parameters.")


def drift_labels(*, short: bool = False) -> dict[str, str]:
    """The drift report's keys, as headings (`short`: as counted words in a list's cell)."""
    if short:
        return {
            "missing": _("missing"),
            "unexpected": _("unexpected"),
            "to_remove": _("to remove"),
            "duplicates": _("duplicated"),
            "mismatched": _("mismatched"),
        }
    return {
        "missing": _("Missing on the camera"),
        "unexpected": _("On the camera, not in its list"),
        "to_remove": _("To remove, still on the camera"),
        "duplicates": _("Duplicated on the camera"),
        "mismatched": _("Other list type or validity on the camera"),
    }
