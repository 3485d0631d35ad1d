# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat
import sys

from ansible_collections.crans.vrrp.plugins.module_utils import _vrrp_common
from ansible_collections.crans.vrrp.plugins.modules import vrrp_instance

# ansible-core >= 2.21 logs a module's arguments first and fails on a NUL in any of them, with
# this message, before the module's own validation runs: refused all the same, nothing written.
NUL_REFUSED_BY_ANSIBLE = 'Failed to log to syslog (embedded null character)'

SEED = dict(
    name='VI_ALL',
    initial_state='MASTER',
    priority=150,
    smtp_alert=True,
    interface='ens18',
    virtual_router_id=60,
    advert_int=2,
    notify='/var/local/services/keepalived/keepalived.py',
    virtual_ipaddress=[dict(address='185.230.79.62/26', brd='185.230.79.63', dev='ens22', scope='global')],
)

SEED_TEXT = """# Managed by Ansible (crans.vrrp.vrrp_instance): local changes will be overwritten.
vrrp_instance VI_ALL {
    state MASTER
    interface ens18
    virtual_router_id 60
    priority 150
    advert_int 2
    virtual_ipaddress {
        185.230.79.62/26 brd 185.230.79.63 dev ens22 scope global
    }
    notify /var/local/services/keepalived/keepalived.py
    smtp_alert
}
"""

FILE = '20-vrrp_instance-VI_ALL.conf'


def test_seed_instance_is_written_then_idempotent(run):
    result = run(vrrp_instance, SEED)
    assert result['changed'] is True, result
    assert result['path'] == run.path(FILE)
    assert run.read(FILE) == SEED_TEXT
    assert result['config']['state'] == 'MASTER'
    # the main file did not exist: it was created with the include of conf.d
    with open(run.main_config, encoding='utf-8') as stream:
        assert 'include conf.d/*.conf' in stream.read()

    again = run(vrrp_instance, SEED)
    assert again['changed'] is False, again
    assert run.read(FILE) == SEED_TEXT


def test_check_mode_reports_and_writes_nothing(run):
    result = run(vrrp_instance, SEED, check=True, diff=True)
    assert result['changed'] is True
    assert not os.path.exists(run.path(FILE))
    assert not os.path.exists(run.main_config)
    after = run.file_diff(result, run.path(FILE))['after']
    assert '185.230.79.62/26 brd 185.230.79.63 dev ens22 scope global' in after
    assert 'state MASTER' in after


def test_diff_on_change(run):
    run(vrrp_instance, SEED)
    result = run(vrrp_instance, dict(SEED, priority=120), diff=True)
    assert result['changed'] is True
    assert 'priority 150' in result['diff']['before']
    assert 'priority 120' in result['diff']['after']
    assert result['diff']['before_header'] == run.path(FILE)


def test_invalid_value_names_option_and_value_and_changes_nothing(run):
    run(vrrp_instance, SEED)
    result = run(vrrp_instance, dict(SEED, priority=300))
    assert result.get('failed') is True
    assert 'priority' in result['msg'] and '300' in result['msg']
    assert run.read(FILE) == SEED_TEXT


def test_invalid_sub_option_is_named_with_its_path(run):
    vips = [dict(address='198.51.100.10/24', scope='galaxy')]
    result = run(vrrp_instance, dict(SEED, virtual_ipaddress=vips))
    assert result['failed'] is True
    assert 'virtual_ipaddress[0].scope' in result['msg'] and 'galaxy' in result['msg']
    assert not os.path.exists(run.path(FILE))


def test_missing_required_keyword(run):
    args = dict(SEED)
    del args['virtual_router_id']
    result = run(vrrp_instance, args)
    assert result['failed'] is True
    assert 'virtual_router_id: required option missing' in result['msg']


def test_runtime_check_failure_leaves_host_unchanged(run):
    # each option is valid alone; the runtime's -t refuses the combination
    args = dict(SEED, unicast_src_ip='2001:db8::2')
    result = run(vrrp_instance, args)
    assert result['failed'] is True
    assert 'vrrpd -t' in result['msg'] and 'unicast_src_ip' in result['msg']
    assert run.path(FILE) in result['msg']
    assert not os.path.exists(run.path(FILE))
    assert not os.path.exists(run.main_config)


def test_auth_pass_is_not_logged_nor_diffed(run):
    args = dict(SEED, authentication=dict(auth_type='PASS', auth_pass='s3cr3tpw'))
    result = run(vrrp_instance, args, diff=True)
    assert result['changed'] is True
    assert 's3cr3tpw' in run.read(FILE)
    assert 's3cr3tpw' not in repr(result)
    assert 'auth_pass ********' in run.file_diff(result, run.path(FILE))['after']


def test_absent_removes_then_idempotent(run):
    run(vrrp_instance, SEED)
    result = run(vrrp_instance, dict(name='VI_ALL', state='absent'), diff=True)
    assert result['changed'] is True
    assert result['diff']['after'] == ''
    assert not os.path.exists(run.path(FILE))
    assert run(vrrp_instance, dict(name='VI_ALL', state='absent'))['changed'] is False


def test_existing_main_file_is_kept_and_a_missing_include_warned(run):
    os.makedirs(os.path.dirname(run.main_config))
    with open(run.main_config, 'w', encoding='utf-8') as stream:
        stream.write('# hand written\n')
    result = run(vrrp_instance, SEED)
    assert result['changed'] is True
    assert any('does not include' in w for w in run.warnings(result))
    with open(run.main_config, encoding='utf-8') as stream:
        assert stream.read() == '# hand written\n'


def test_absolute_include_is_followed_for_the_check(run):
    os.makedirs(run.config_dir)
    with open(run.main_config, 'w', encoding='utf-8') as stream:
        stream.write('include "%s/*.conf"\n' % run.config_dir)
    with open(run.path('20-vrrp_instance-OTHER.conf'), 'w', encoding='utf-8') as stream:
        stream.write('vrrp_instance OTHER {\n interface ens18\n virtual_router_id 60\n'
                     ' virtual_ipaddress {\n 198.51.100.1/24\n }\n}\n')
    # same VRID on the same interface as OTHER: the assembled configuration is refused
    result = run(vrrp_instance, SEED)
    assert result['failed'] is True, result
    assert not os.path.exists(run.path(FILE))
    assert not any('does not include' in w for w in run.warnings(result))


def test_file_modes(run):
    assert run(vrrp_instance, SEED)['changed'] is True
    assert os.stat(run.path(FILE)).st_mode & 0o777 == 0o600
    assert os.stat(run.main_config).st_mode & 0o777 == 0o644
    os.chmod(run.path(FILE), 0o640)
    assert run(vrrp_instance, dict(SEED, priority=151))['changed'] is True
    assert os.stat(run.path(FILE)).st_mode & 0o777 == 0o640


def test_bad_name(run):
    result = run(vrrp_instance, dict(SEED, name='../evil'))
    assert result['failed'] is True and 'name' in result['msg']


def test_missing_runtime_gives_install_hint(run, monkeypatch):
    monkeypatch.setattr(_vrrp_common, 'HAS_VRRPD', False)
    monkeypatch.setattr(_vrrp_common, 'VRRPD_IMPORT_ERROR', 'ImportError: vrrpd')
    result = run(vrrp_instance, SEED)
    assert result['failed'] is True
    assert 'vrrpd' in result['msg'] and 'pip install' in result['msg']


def test_control_characters_in_names_and_interfaces_are_refused(run):
    for option, value in (('name', 'VI_1\r\nBcc: victim@example.org'), ('name', 'VI\x1b[2J'),
                          ('interface', 'ens18\n'), ('notify', '/usr/local/bin/n\x00x'),
                          ('track_interface', ['eth1\t'])):
        result = run(vrrp_instance, dict(SEED, **{option: value}))
        assert result.get('failed') is True, (option, result)
        assert not os.path.isdir(run.config_dir) or not os.listdir(run.config_dir)
        if NUL_REFUSED_BY_ANSIBLE in result['msg'] and '\x00' in str(value):
            continue  # ansible-core >= 2.21 refuses a NUL in any argument before the module runs
        assert 'control characters' in result['msg'], result['msg']
        assert option + ': ' in result['msg'] or option + '[0]: ' in result['msg'], result['msg']


# -- secrets: the file's mode and every value the module returns ---------------------------------

_FILE_EVENTS = dict(path=None, events=[])


def _audit(event, args):
    """Records, for the watched path, every chmod and the mode of whatever is renamed onto it."""
    path = _FILE_EVENTS['path']
    if path is None or event not in ('os.rename', 'os.link', 'os.chmod'):
        return
    if event == 'os.chmod':
        if isinstance(args[0], (str, bytes)) and os.fsdecode(args[0]) == path:
            _FILE_EVENTS['events'].append(('chmod', args[1]))
    elif os.fsdecode(args[1]) == path:
        _FILE_EVENTS['events'].append(('appears', stat.S_IMODE(os.stat(args[0]).st_mode)))


def test_a_new_file_is_visible_only_with_its_final_mode(run):
    """Mode 0600 before the rename that makes it visible; never world-readable, not even briefly."""
    if not _FILE_EVENTS.get('hooked'):
        sys.addaudithook(_audit)      # audit hooks cannot be removed: this one only watches one path
        _FILE_EVENTS['hooked'] = True
    _FILE_EVENTS.update(path=run.path(FILE), events=[])
    try:
        result = run(vrrp_instance, dict(SEED, authentication=dict(auth_type='PASS', auth_pass='s3cr3tpw')))
    finally:
        events, _FILE_EVENTS['path'] = _FILE_EVENTS['events'], None
    assert result['changed'] is True, result
    assert events and events[0] == ('appears', 0o600), events
    assert all(mode == 0o600 for _what, mode in events), events
    assert stat.S_IMODE(os.stat(run.path(FILE)).st_mode) == 0o600


def test_a_password_that_needs_quoting_is_masked_everywhere(run):
    password = 'p"w $a\\x'
    args = dict(SEED, authentication=dict(auth_type='PASS', auth_pass=password))
    result = run(vrrp_instance, args, diff=True)
    assert result['changed'] is True, result
    rendered_line = [line for line in run.read(FILE).splitlines() if 'auth_pass' in line][0].split(None, 1)[1]
    assert rendered_line != password           # written escaped: the literal does not appear in it
    text = repr(result)
    assert password not in text and rendered_line not in text, text
    assert 'auth_pass ********' in result['rendered']
    assert 'auth_pass ********' in run.file_diff(result, run.path(FILE))['after']
    assert result['config']['authentication']['auth_pass'] == '********'


def test_a_refused_password_is_not_shown_in_the_error(run):
    args = dict(SEED, authentication=dict(auth_type='PASS', auth_pass='s3cr\x01t'))
    result = run(vrrp_instance, args)
    assert result.get('failed') is True
    assert 'authentication.auth_pass' in result['msg'] and 'control characters' in result['msg']
    assert 's3cr' not in repr(result), result
