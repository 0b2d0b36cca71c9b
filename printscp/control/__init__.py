"""Runtime control of a running printscp, on loopback only: printer status and fault files.

`server` is the tiny JSON endpoint `printscp serve` starts; `client` is what
`printscp printer status` and `printscp faults load` use to talk to it.
"""
