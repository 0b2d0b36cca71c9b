"""Scripted faults: a printer that fails on purpose, reproducibly.

Pure Python, no networking: `plan` reads and checks the TOML fault file, `engine`
decides which rules fire for a request, `timeline` changes the printer status after
films or time, `terms` holds the Printer Status Info terms of PS3.3 C.13.9.1. The SCP
side (printscp/scp/faults_hook.py) carries the decisions out.
"""

from printscp.faults.engine import Decision, FaultEngine, Request
from printscp.faults.plan import FaultError, FaultPlan, load, loads, resolve, shipped
from printscp.faults.timeline import Timeline

__all__ = ["Decision", "FaultEngine", "FaultError", "FaultPlan", "Request", "Timeline",
           "load", "loads", "resolve", "shipped"]
