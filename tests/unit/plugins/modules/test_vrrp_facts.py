# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import socket
import threading

import pytest

from ansible_collections.crans.vrrp.plugins.modules import vrrp_facts

STATUS = {
    'ok': True,
    'daemon': {'running': True, 'version': '0.1.0', 'pid': 42, 'config_file': '/etc/vrrpd/vrrpd.conf'},
    'instances': {'VI_1': {
        'state': 'MASTER', 'wanted_state': 'BACKUP', 'priority': 100, 'effective_priority': 100,
        'virtual_router_id': 51, 'interface': 'eth0', 'version': 2, 'vips': ['198.51.100.10/24'],
        'master_address': '198.51.100.1', 'master_priority': 100, 'last_transition': 1700000000.5,
        'counters': {'advert_rcvd': 0, 'advert_sent': 3, 'rejected': {}},
    }},
}


@pytest.fixture
def server(tmp_path):
    """A one-shot control socket answering with whatever ``answer`` holds."""
    path = str(tmp_path / 'vrrpd.sock')
    answer = {'line': json.dumps(STATUS).encode() + b'\n', 'request': None}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve():
        conn, dummy = listener.accept()
        with conn:
            answer['request'] = conn.makefile('rb').readline()
            conn.sendall(answer['line'])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, answer
    listener.close()


def test_not_running_is_a_fact(run, tmp_path):
    result = run(vrrp_facts, dict(socket=str(tmp_path / 'absent.sock')), files=False)
    assert result.get('failed') is not True
    assert result['changed'] is False
    assert result['ansible_facts']['vrrp'] == {
        'daemon': {'running': False, 'socket': str(tmp_path / 'absent.sock')}, 'instances': {}}


def test_stale_socket_is_not_running(run, tmp_path):
    path = str(tmp_path / 'stale.sock')
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()            # the file stays, nobody listens: ECONNREFUSED
    assert os.path.exists(path)
    result = run(vrrp_facts, dict(socket=path), files=False)
    assert result['ansible_facts']['vrrp']['daemon']['running'] is False


def test_running_daemon(run, server):
    path, answer = server
    result = run(vrrp_facts, dict(socket=path), check=True, files=False)
    facts = result['ansible_facts']['vrrp']
    assert json.loads(answer['request']) == {'command': 'status'}
    assert facts['daemon']['running'] is True
    assert facts['daemon']['pid'] == 42 and facts['daemon']['config_file'] == '/etc/vrrpd/vrrpd.conf'
    instance = facts['instances']['VI_1']
    for key in ('state', 'wanted_state', 'priority', 'effective_priority', 'virtual_router_id', 'interface',
                'version', 'vips', 'master_address', 'master_priority', 'last_transition', 'counters'):
        assert instance[key] == STATUS['instances']['VI_1'][key]


def test_daemon_error_fails(run, server):
    path, answer = server
    answer['line'] = b'{"ok": false, "error": "boom"}\n'
    result = run(vrrp_facts, dict(socket=path), files=False)
    assert result['failed'] is True and 'boom' in result['msg']


def test_garbage_answer_fails(run, server):
    path, answer = server
    answer['line'] = b'not json\n'
    result = run(vrrp_facts, dict(socket=path), files=False)
    assert result['failed'] is True and 'JSON' in result['msg']
