"""One supervisor of a kind per installation: a second process is refused while the first lives,
and the lock goes with the process that held it."""

import subprocess
import sys

import pytest

from lprnvr.instance_lock import hold_instance_lock

HOLDER = "from lprnvr.instance_lock import hold_instance_lock as h; import sys, time; f = h(sys.argv[1], 'x', 'run_x'); print('held', flush=True); time.sleep(60)"


def test_a_second_process_is_refused_until_the_first_one_dies(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SystemExit, match="another run_x holds the lock"):
            hold_instance_lock(tmp_path, "x", "run_x")
    finally:
        holder.kill()
        holder.wait(10)
    hold_instance_lock(tmp_path, "x", "run_x").close()  # the kernel dropped the dead holder's lock
