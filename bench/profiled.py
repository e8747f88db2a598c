"""Run a server program under cProfile in every thread: `python bench/profiled.py OUT program args...`.

Python 3.11 has no `threading.setprofile_all_threads`: each new thread starts its own profiler on its
first event; SIGUSR1 clears every thread's stats so far (start, loading and warm-up out of the count);
on exit (SIGINT, SIGTERM or the program's end) the threads' stats are merged into OUT.
"""

import atexit
import cProfile
import pstats
import runpy
import shutil
import signal
import sys
import threading

out, program, *arguments = sys.argv[1:]
profiles = [cProfile.Profile()]


def start_in_thread(*_):
    profile = cProfile.Profile()
    profiles.append(profile)
    profile.enable()


def dump():
    for profile in profiles:
        profile.disable()
    pstats.Stats(*profiles).dump_stats(out)


def clear(*_):
    for profile in profiles:
        profile.clear()


atexit.register(dump)
signal.signal(signal.SIGUSR1, clear)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.setprofile(start_in_thread)
sys.argv = [program, *arguments]
profiles[0].enable()
runpy.run_path(shutil.which(program) or program, run_name="__main__")
