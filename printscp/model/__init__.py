"""The Annex H state machine: pure Python, no pynetdicom (architecture: scp -> model -> spool -> render)."""
