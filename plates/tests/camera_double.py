"""Compatibility: the fake Hikvision camera now lives in `cameras/tests/doubles/hikvision.py`, the one
Hikvision double for plates, discovery and events."""

from cameras.tests.doubles.hikvision import HTML_401, CameraDouble, HikvisionCamera, main

__all__ = ["HTML_401", "CameraDouble", "HikvisionCamera", "main"]

if __name__ == "__main__":  # pragma: no cover - `python -m plates.tests.camera_double` still works
    main()
