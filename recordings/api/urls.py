"""Mounted at /api/ (before cameras' own URLs): seed 002's stream paths under cameras/, the NVR under nvr/."""

from django.urls import path

from . import playback, views

urlpatterns = [
    path("cameras/stream/<str:ref>", views.StreamView.as_view(), name="stream"),
    path("cameras/streams/batch", views.StreamBatchView.as_view(), name="stream-batch"),
    path("cameras/streams/<path:subpath>", views.HlsFileView.as_view(), name="stream-file"),
    path("nvr/record/<str:ref>", views.RecordView.as_view(), name="nvr-record"),
    path("nvr/records/batch", views.RecordBatchView.as_view(), name="nvr-record-batch"),
    path("nvr/recordings", views.RecordingListView.as_view(), name="nvr-recordings"),
    path("nvr/recordings/<int:pk>", views.RecordingDetailView.as_view(), name="nvr-recording"),
    path("nvr/recordings/<int:pk>/download", views.RecordingDownloadView.as_view(), name="nvr-recording-download"),
    path("nvr/export", views.ExportView.as_view(), name="nvr-export"),
    path("nvr/status/<str:ref>", views.StatusView.as_view(), name="nvr-status"),
    path("nvr/continuous/<str:ref>", views.ContinuousView.as_view(), name="nvr-continuous"),
    path("nvr/timeline/", playback.TimelinesView.as_view(), name="nvr-timelines"),
    path("nvr/timeline/<str:ref>", playback.TimelineView.as_view(), name="nvr-timeline"),
    path("nvr/playback/<str:ref>", playback.PlaybackView.as_view(), name="nvr-playback"),
    path("nvr/vod/<str:token>/<str:name>", playback.VodFileView.as_view(), name="nvr-vod-file"),
]
