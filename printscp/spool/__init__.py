"""The print queue: jobs are rendered off the association thread and written atomically."""
