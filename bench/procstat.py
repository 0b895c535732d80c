"""Resident memory of the calling process, for the benchmark twins (NumPy and PyTorch)."""


def status_mib(key):
    """A /proc/self/status line (VmHWM: peak resident set, VmRSS: now) in MiB, or None where
    there is none (not Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None
