"""The web console and JSON API: reads the job store, calls the control functions the CLI uses."""
