"""Development-only helpers shared by tests, bench and demo (loopback servers, fakes, envs).

Not shipped in the wheel.
"""
