# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filter that tells the vrrp role which block files on a host are no longer declared.

It lives here rather than in the role's tasks because the rule (file name prefix per kind, the
name between prefix and C(.conf)) is the modules' naming, and a unit test can hold it.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError
from ansible_collections.crans.vrrp.plugins.module_utils._vrrp_common import BLOCKS

#: key in the result -> file name prefix the module of that kind writes
PREFIXES = {
    'scripts': BLOCKS['vrrp_script'][2],
    'instances': BLOCKS['vrrp_instance'][2],
    'sync_groups': BLOCKS['vrrp_sync_group'][2],
}
SUFFIX = '.conf'


def _declared_names(kind, blocks):
    try:
        return set(block['name'] for block in blocks or [])
    except (KeyError, TypeError):
        raise AnsibleFilterError('vrrp_stale_blocks: every item of %s needs a name' % kind)


def vrrp_stale_blocks(paths, scripts=None, instances=None, sync_groups=None, purge=True):
    """Names of the blocks whose files are in ``paths`` but that are not declared, by kind."""
    declared = {'scripts': scripts, 'instances': instances, 'sync_groups': sync_groups}
    stale = dict((kind, []) for kind in PREFIXES)
    if not purge:
        return stale
    names = dict((kind, _declared_names(kind, declared[kind])) for kind in PREFIXES)
    for filename in sorted(os.path.basename(str(path)) for path in paths):
        for kind, prefix in PREFIXES.items():
            if filename.startswith(prefix) and filename.endswith(SUFFIX):
                name = filename[len(prefix):-len(SUFFIX)]
                if name and name not in names[kind]:
                    stale[kind].append(name)
    return stale


class FilterModule(object):

    def filters(self):
        return {'vrrp_stale_blocks': vrrp_stale_blocks}
