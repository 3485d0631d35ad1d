# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's stale-block rule: which block files on a host are no longer declared."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crans.vrrp.plugins.filter.vrrp_stale_blocks import FilterModule, vrrp_stale_blocks
from ansible_collections.crans.vrrp.plugins.module_utils import _vrrp_common as common

FOUND = [
    '/etc/vrrpd/conf.d/00-global_defs.conf',
    '/etc/vrrpd/conf.d/10-vrrp_script-chk_old.conf',
    '/etc/vrrpd/conf.d/10-vrrp_script-chk_web.conf',
    '/etc/vrrpd/conf.d/20-vrrp_instance-VI_1.conf',
    '/etc/vrrpd/conf.d/20-vrrp_instance-VI_OLD.conf',
    '/etc/vrrpd/conf.d/20-vrrp_instance-VI_2.conf.bak',  # not a block file: kept
    '/etc/vrrpd/conf.d/30-vrrp_sync_group-VG_OLD.conf',
]


def test_undeclared_blocks_of_each_kind_are_stale():
    stale = vrrp_stale_blocks(FOUND, scripts=[{'name': 'chk_web'}], instances=[{'name': 'VI_1'}], sync_groups=[])
    assert stale == {'scripts': ['chk_old'], 'instances': ['VI_OLD'], 'sync_groups': ['VG_OLD']}


def test_names_are_compared_whole_and_per_kind():
    # an instance named like a script is no declaration of the script; VI_1 does not keep VI_10
    found = ['10-vrrp_script-VI_1.conf', '20-vrrp_instance-VI_10.conf', '20-vrrp_instance-VI_1.conf']
    stale = vrrp_stale_blocks(found, instances=[{'name': 'VI_1'}])
    assert stale == {'scripts': ['VI_1'], 'instances': ['VI_10'], 'sync_groups': []}


def test_purge_off_removes_nothing():
    assert vrrp_stale_blocks(FOUND, purge=False) == {'scripts': [], 'instances': [], 'sync_groups': []}


def test_a_declared_block_without_a_name_is_an_error():
    with pytest.raises(AnsibleFilterError, match='instances'):
        vrrp_stale_blocks(FOUND, instances=[{'priority': 100}])


def test_prefixes_are_the_ones_the_modules_write():
    for kind in ('vrrp_script', 'vrrp_instance', 'vrrp_sync_group'):
        path = common.block_path('/etc/vrrpd/conf.d', kind, 'X')
        stale = vrrp_stale_blocks([path])
        assert sum(stale.values(), []) == ['X'], (kind, path, stale)


def test_registered_under_its_name():
    assert FilterModule().filters()['vrrp_stale_blocks'] is vrrp_stale_blocks
