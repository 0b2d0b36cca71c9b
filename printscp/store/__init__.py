"""The job store: an SQLite index over the output folder's job folders and association records.

The folders stay the output a user opens; the database only indexes them and is rebuilt
from them (`printscp jobs reindex`). Only this package writes SQL.
"""

from printscp.store.db import Store, StoreError

__all__ = ["Store", "StoreError"]
