"""Forwarding: published jobs go on to an archive (C-STORE) or a paper printer (CUPS).

This room reads only published job folders (job.json, film PNGs, job.pdf) and its own
settings; it never reaches into scp/ or model/. Its durable outbox is one JSON file per
job x destination, so a restart, a resend or a later job store can pick it up.
"""
