# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from ansible_collections.crans.vrrp.plugins.modules import vrrp_instance, vrrp_sync_group

FILE = '30-vrrp_sync_group-VG.conf'


def instance(name, vrid):
    return dict(name=name, interface='eth0', virtual_router_id=vrid,
                virtual_ipaddress=[dict(address='198.51.100.%d/24' % vrid)])


def test_group_of_existing_instances(run):
    assert run(vrrp_instance, instance('VI_1', 1))['changed'] is True
    assert run(vrrp_instance, instance('VI_2', 2))['changed'] is True
    args = dict(name='VG', group=['VI_1', 'VI_2'], notify=dict(command='/bin/true', user='nobody'),
                track_interface=['eth1', dict(name='eth2', weight=-10)], smtp_alert=False)
    result = run(vrrp_sync_group, args)
    assert result['changed'] is True, result
    text = run.read(FILE)
    assert '    group {\n        VI_1\n        VI_2\n    }\n' in text
    assert '    notify /bin/true nobody\n' in text
    assert '    track_interface {\n        eth1\n        eth2 weight -10\n    }\n' in text
    assert '    smtp_alert false\n' in text
    assert run(vrrp_sync_group, args)['changed'] is False


def test_unknown_member_is_refused_by_the_runtime(run):
    result = run(vrrp_sync_group, dict(name='VG', group=['VI_NOPE']))
    assert result['failed'] is True
    assert "unknown vrrp_instance 'VI_NOPE'" in result['msg']
    assert not os.path.exists(run.path(FILE))


def test_removing_a_member_instance_first_is_refused(run):
    run(vrrp_instance, instance('VI_1', 1))
    run(vrrp_sync_group, dict(name='VG', group=['VI_1']))
    result = run(vrrp_instance, dict(name='VI_1', state='absent'))
    assert result['failed'] is True
    assert os.path.exists(run.path('20-vrrp_instance-VI_1.conf'))


def test_group_required(run):
    result = run(vrrp_sync_group, dict(name='VG'))
    assert result['failed'] is True and 'group: required option missing' in result['msg']
