# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from ansible_collections.crans.vrrp.plugins.modules import vrrp_global

# ansible-core >= 2.21 logs a module's arguments first and fails on a NUL in any of them, with
# this message, before the module's own validation runs: refused all the same, nothing written.
NUL_REFUSED_BY_ANSIBLE = 'Failed to log to syslog (embedded null character)'

FILE = '00-global_defs.conf'
SEED = dict(
    router_id='routeur-sam',
    notification_email=['root@crans.org'],
    notification_email_from='keepalived@crans.org',
    smtp_server=dict(host='smtp.adm.crans.org'),
)


def test_seed_globals(run):
    result = run(vrrp_global, SEED)
    assert result['changed'] is True, result
    text = run.read(FILE)
    assert 'global_defs {\n' in text
    assert '    notification_email {\n        root@crans.org\n    }\n' in text
    assert '    smtp_server smtp.adm.crans.org 25\n' in text
    assert result['config']['smtp_server'] == {'host': 'smtp.adm.crans.org', 'port': 25}
    assert run(vrrp_global, SEED)['changed'] is False


def test_flags_and_words(run):
    args = dict(vrrp_strict=True, enable_script_security=True, script_user=dict(user='nobody', group='nogroup'),
                vrrp_notify_fifo='/run/vrrp.fifo', smtp_connect_timeout=2.5)
    result = run(vrrp_global, args)
    assert result['changed'] is True, result
    text = run.read(FILE)
    for line in ('vrrp_strict', 'enable_script_security', 'script_user nobody nogroup',
                 'vrrp_notify_fifo /run/vrrp.fifo', 'smtp_connect_timeout 2.5'):
        assert '    %s\n' % line in text


def test_invalid_multicast_group(run):
    result = run(vrrp_global, dict(vrrp_mcast_group4='198.51.100.1'))
    assert result['failed'] is True
    assert 'vrrp_mcast_group4' in result['msg'] and '198.51.100.1' in result['msg']
    assert not os.path.exists(run.path(FILE))


def test_type_error_names_option(run):
    result = run(vrrp_global, dict(vrrp_version='three'))
    assert result['failed'] is True
    assert 'vrrp_version' in result['msg']


def test_absent(run):
    run(vrrp_global, SEED)
    assert run(vrrp_global, dict(state='absent'))['changed'] is True
    assert not os.path.exists(run.path(FILE))
    assert run(vrrp_global, dict(state='absent'), check=True)['changed'] is False


def test_control_characters_are_refused_before_anything_is_written(run):
    for option, value in (('router_id', 'lb1\r\nBcc: victim@example.org'),
                          ('notification_email_from', 'a@example.org\nBcc: victim@example.org'),
                          ('smtp_helo_name', 'lb1\x00'), ('notification_email', ['ops@example.org\r'])):
        result = run(vrrp_global, dict(SEED, **{option: value}))
        assert result.get('failed') is True, (option, result)
        assert not os.path.exists(run.path(FILE))
        if NUL_REFUSED_BY_ANSIBLE in result['msg'] and '\x00' in str(value):
            continue  # ansible-core >= 2.21 refuses a NUL in any argument before the module runs
        assert option in result['msg'] and 'control characters' in result['msg'], result['msg']
