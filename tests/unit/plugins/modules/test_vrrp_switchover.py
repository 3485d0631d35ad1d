# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import socket
import threading

import pytest

from ansible_collections.crans.vrrp.plugins.modules import vrrp_switchover


def _instance(state, advert_rcvd=5, runtime_priority=None):
    return {'state': state, 'advert_int': 0.1, 'master_address': '198.51.100.1', 'runtime_priority': runtime_priority,
            'counters': {'advert_rcvd': advert_rcvd}}


class FakeDaemon(object):
    """A control socket that answers like vrrpd: a BACKUP that becomes MASTER when asked to switch over."""

    def __init__(self, path, state='BACKUP'):
        self.state = state
        self.requests = []
        self.rcvd = 5
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def answer(self, request):
        self.requests.append(request['command'])
        if request['command'] == 'switchover':
            if request.get('instance') != 'VI_1':
                return {'ok': False, 'error': "no instance %r" % request.get('instance')}
            self.state = 'MASTER'
            return {'ok': True, 'changed': True, 'previous_master': '198.51.100.1', 'runtime_priority': 151}
        if self.state == 'MASTER' and self.requests.count('status') < 4:
            self.rcvd += 1  # the old master's last adverts still arrive for a moment
        runtime = 151 if 'switchover' in self.requests else None
        return {'ok': True, 'instances': {'VI_1': _instance(self.state, self.rcvd, runtime)}}

    def serve(self):
        while True:
            try:
                conn, dummy = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(json.dumps(self.answer(json.loads(conn.makefile('rb').readline()))).encode() + b'\n')


@pytest.fixture
def daemon(tmp_path):
    fake = FakeDaemon(str(tmp_path / 'vrrpd.sock'))
    yield fake
    fake.listener.close()


def test_switchover_moves_and_waits_until_no_other_router_advertises(run, daemon, tmp_path):
    result = run(vrrp_switchover, dict(instance='VI_1', socket=str(tmp_path / 'vrrpd.sock')), files=False)
    assert result.get('failed') is not True, result
    assert result['changed'] is True and result['state'] == 'MASTER'
    assert result['previous_master'] == '198.51.100.1' and result['runtime_priority'] == 151
    assert result['elapsed'] >= 0.3  # three advert intervals with the counter still
    assert daemon.requests.count('switchover') == 1
    assert daemon.requests.count('status') >= 4


def test_check_mode_says_what_it_would_do_and_changes_nothing(run, daemon, tmp_path):
    result = run(vrrp_switchover, dict(instance='VI_1', socket=str(tmp_path / 'vrrpd.sock')), check=True, files=False)
    assert result['changed'] is True and result['state'] == 'BACKUP'
    assert result['previous_master'] == '198.51.100.1'
    assert 'switchover' not in daemon.requests and daemon.state == 'BACKUP'


def test_already_master_is_unchanged(run, tmp_path):
    fake = FakeDaemon(str(tmp_path / 'vrrpd.sock'), state='MASTER')
    try:
        result = run(vrrp_switchover, dict(instance='VI_1', socket=str(tmp_path / 'vrrpd.sock')), files=False)
    finally:
        fake.listener.close()
    assert result['changed'] is False and result['state'] == 'MASTER'
    assert 'switchover' not in fake.requests


def test_unknown_instance_fails_with_the_known_ones(run, daemon, tmp_path):
    result = run(vrrp_switchover, dict(instance='VI_9', socket=str(tmp_path / 'vrrpd.sock')), files=False)
    assert result['failed'] is True
    assert result['msg'] == 'vrrpd has no instance VI_9; it has: VI_1'


def test_no_daemon_fails_with_a_hint(run, tmp_path):
    result = run(vrrp_switchover, dict(instance='VI_1', socket=str(tmp_path / 'absent.sock')), files=False)
    assert result['failed'] is True and 'is vrrpd running?' in result['msg']


def test_fault_cannot_take_over(run, tmp_path):
    fake = FakeDaemon(str(tmp_path / 'vrrpd.sock'), state='FAULT')
    try:
        result = run(vrrp_switchover, dict(instance='VI_1', socket=str(tmp_path / 'vrrpd.sock')), files=False)
    finally:
        fake.listener.close()
    assert result['failed'] is True and 'only a BACKUP can take over' in result['msg']
