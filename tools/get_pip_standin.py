# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip bootstrap script ansible-test downloads.

ansible-test creates its virtual environments without pip and fetches a
get-pip script from a CI file host to install it (ansible/ansible#77304).
Where that host cannot be reached, run_tests.py saves this file under the
name ansible-test looks for (~/.ansible/test/cache/get_pip_<version>.py).  It
runs the pip wheel bundled with the interpreter's ensurepip, which then
installs the pip version ansible-test asked for from the package index.
"""

import glob
import os
import runpy
import sys

import ensurepip


def main():
    bundled = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
    if not bundled:
        sys.exit("get-pip stand-in: this Python has no bundled pip wheel in ensurepip")
    # ansible-test passes get-pip arguments ("pip==X --no-setuptools --no-wheel");
    # pip itself wants an 'install' command and knows neither flag.
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    sys.argv = [sys.argv[0], "install", "--upgrade", "--force-reinstall"] + args
    sys.path.insert(0, bundled[-1])
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
