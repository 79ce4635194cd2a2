"""Every user-facing string of ours is in the Spanish catalogue: `makemessages` over the sources (into a
copy of locale/), then no entry may be untranslated or fuzzy. A new `_()` without its translation
fails here, with the strings to translate."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE = [".venv", "node_modules", "var", "bench", "scripts", "docs", "*/tests/*", "tests"]


def _entries(po_text: str) -> list[str]:
    """The msgids of a .po text (as msgattrib prints them), header excluded."""
    out, current = [], None
    for line in po_text.splitlines():
        if line.startswith("msgid "):
            current = line[6:].strip('"')
        elif line.startswith('"') and current is not None:
            current += line.strip('"')
        elif line.startswith("msgstr") and current is not None:
            if current:
                out.append(current)
            current = None
    return out


def test_every_string_of_ours_has_a_spanish_translation(tmp_path):
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "locale", locale)
    env = {**os.environ, "LPRNVR_TEST_LOCALE_DIR": str(locale), "DJANGO_SETTINGS_MODULE": "tests.i18n_settings"}
    args = [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-obsolete", "--no-location"]
    args += [f"--ignore={pattern}" for pattern in IGNORE]
    made = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr[-2000:]
    po = locale / "es" / "LC_MESSAGES" / "django.po"
    missing = []
    for flag in ("--untranslated", "--only-fuzzy"):
        shown = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", str(po)], capture_output=True, text=True, timeout=60
        )
        assert shown.returncode == 0, shown.stderr
        missing += _entries(shown.stdout)
    assert not missing, f"{len(missing)} strings with no Spanish translation in locale/es/LC_MESSAGES/django.po:\n" + (
        "\n".join(missing[:80])
    )
