"""Plate-read ingestion: the `run_events` listener (supervisor) and the services it and the push
endpoint share (sources, secrets, counters). Storing a read is `plates.services.reads.ingest_read`."""
