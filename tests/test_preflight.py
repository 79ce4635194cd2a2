"""The test preflight and the RTSP double fail loudly, naming what is missing (issue: clockoverlay).

The machine here has every element; the tests take one away by giving GStreamer a plugin folder that
holds all the system's plugins but the one providing `clockoverlay` (libgstpango, Debian's
gstreamer1.0-x), which reproduces a fresh machine without that package.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import preflight

PLUGINS = Path("/usr/lib/x86_64-linux-gnu/gstreamer-1.0")


@pytest.fixture
def without_pango(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    for plugin in PLUGINS.glob("*.so"):
        if plugin.name != "libgstpango.so":
            (folder / plugin.name).symlink_to(plugin)
    monkeypatch.setenv("GST_PLUGIN_SYSTEM_PATH_1_0", str(folder))
    monkeypatch.setenv("GST_REGISTRY_1_0", str(tmp_path / "registry.bin"))
    monkeypatch.setenv("GST_REGISTRY_FORK", "no")


def test_everything_the_suite_needs_is_here():
    assert preflight.problems() == []


def test_every_element_of_the_double_has_a_package():
    double = preflight.load_rtsp_double()
    used = {name for launch in double.all_pipelines() for name in double.elements_of(launch)}
    assert used == set(double.ELEMENT_PACKAGES)
    assert double.elements_of("( videotestsrc is-live=true ! video/x-raw,width=2 ! x264enc name=a )") == [
        "videotestsrc",
        "x264enc",
    ]


def test_preflight_names_the_missing_element_and_its_package(without_pango):
    found = preflight.gstreamer_problems()
    assert found == ["GStreamer element 'clockoverlay' (gst-inspect-1.0 clockoverlay): apt-get install gstreamer1.0-x"]
    assert "gstreamer1.0-x" in preflight.report(found)


def test_rtsp_double_refuses_to_start_with_an_unbuildable_pipeline(without_pango):
    done = subprocess.run(
        [preflight.GST_PYTHON, str(preflight.RTSP_DOUBLE), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "ready" not in done.stdout
    assert "no GStreamer element 'clockoverlay' (Debian package gstreamer1.0-x)" in done.stderr


def test_ffmpeg_listing_is_parsed():
    assert preflight.ffmpeg_problems() == []
    listing = preflight._run(["ffmpeg", "-hide_banner", "-muxers"]).stdout
    assert " mp4 " in listing
