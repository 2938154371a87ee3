# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file a task hands to ``case_attachment``: from ``src`` or from ``content`` + ``name``, for either vendor.

Each vendor's name and size rules live next to its client (``falcon_attachments``, ``unit21``); they are checked
here before the file is read, so nothing is read or sent for a file the vendor would refuse.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError


def option_text(params, name):
    """An option's value as native text without surrounding whitespace; None when unset."""
    value = params.get(name)
    return to_native(value).strip() if value is not None else None


def refuse_unlisted_extension(name, allowed, noun, who_takes):
    """InvalidInputError unless ``name`` ends in one of the ``allowed`` extensions (compared in lower case).

    ``who_takes`` completes the message, e.g. "Falcon accepts": "... Falcon accepts only these file types: ...".
    """
    extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
    if extension not in allowed:
        raise InvalidInputError("The %s name %r has %s; %s only these file types: %s."
                                % (noun, name, "the extension %r" % extension if extension else "no extension",
                                   who_takes, ", ".join(allowed)))


def read_file_payload(params, check_name, check_size, noun):
    """(name, bytes) from ``src`` or ``content`` + ``name``; ``noun`` names the thing in messages ("attachment")."""
    src = params.get("src")
    if src:
        if not os.path.isfile(src):
            raise InvalidInputError("src %s does not exist or is not a regular file." % src)
        name = option_text(params, "name") or os.path.basename(src)
        check_name(name)
        check_size(os.path.getsize(src), name)
        try:
            with open(src, "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as err:
            raise InvalidInputError("src %s cannot be read: %s." % (src, err.strerror or err))
    else:
        name = option_text(params, "name")
        if not name:
            raise InvalidInputError("name is required with content: the file name the %s gets on the case." % noun)
        check_name(name)
        data = to_bytes(params.get("content") or "", errors="surrogate_or_strict")
    check_size(len(data), name)
    return name, data
