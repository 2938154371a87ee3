# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the polling-source tests: the plugins loaded from the tree (with the collection importable) and a sandbox."""

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile

from eda_helpers import call

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = os.path.join(REPO, "extensions", "eda", "plugins", "event_source")


def _collection_root():
    """A folder holding ansible_collections/caseops/desk -> this tree, so the plugins import module_utils as installed."""
    root = tempfile.mkdtemp(prefix="caseops-eda-")
    os.makedirs(os.path.join(root, "ansible_collections", "caseops"))
    os.symlink(REPO, os.path.join(root, "ansible_collections", "caseops", "desk"))
    atexit.register(shutil.rmtree, root, True)  # removes the link, never follows it
    return root


COLLECTIONS_ROOT = _collection_root()
sys.path.insert(0, COLLECTIONS_ROOT)


def load_source(name):
    spec = importlib.util.spec_from_file_location("caseops_" + name, os.path.join(SOURCES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Sandbox(object):
    """The control API of a running sandbox, and its request log."""

    def __init__(self, url):
        self.url = url

    def control(self, method, path, body=None, expect=(200, 201)):
        status, answer = call(method, self.url + path, body)
        assert status in expect, (path, status, answer)
        return answer

    def mark(self):
        return self.control("GET", "/_sandbox/requests?limit=0")["last_seq"]

    def requests_since(self, seq, vendor=None):
        path = "/_sandbox/requests?since=%d" % seq + ("&vendor=%s" % vendor if vendor else "")
        return self.control("GET", path)["requests"]
