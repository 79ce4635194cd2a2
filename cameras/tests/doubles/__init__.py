"""Device doubles for discovery tests and the benchmark: they follow real devices' recorded behaviour.

Every double listens on a 127.0.0.x loopback address of its own (the whole 127/8 is local on Linux), so
nmap over a loopback range finds them like cameras on a LAN, and nothing ever leaves the machine.
"""
