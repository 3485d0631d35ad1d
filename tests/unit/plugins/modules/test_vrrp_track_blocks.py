# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.crans.vrrp.plugins.modules import vrrp_instance, vrrp_track_file, vrrp_track_process

TF_FILE = '05-track_file-drain.conf'
TF_ARGS = dict(name='drain', file='/run/vrrpd/drain', weight=dict(value=-50, reverse=True),
               init_file=dict(value=0, overwrite=True))
TP_FILE = '06-vrrp_track_process-web.conf'
TP_ARGS = dict(name='web', process=['/usr/sbin/nginx', '-g', 'daemon off;'], param_match='initial',
               weight=-20, quorum=1, quorum_max=4, delay=1.5, fork_delay=0.5, terminate_delay=2,
               full_command=True)


def test_track_file_written_and_idempotent(run):
    result = run(vrrp_track_file, TF_ARGS)
    assert result['changed'] is True, result
    text = run.read(TF_FILE)
    assert 'track_file drain {\n' in text and '    weight -50 reverse\n' in text
    assert '    init_file 0 overwrite\n' in text
    assert run(vrrp_track_file, TF_ARGS)['changed'] is False


def test_track_process_written_and_idempotent(run):
    result = run(vrrp_track_process, TP_ARGS)
    assert result['changed'] is True, result
    text = run.read(TP_FILE)
    assert '    process /usr/sbin/nginx -g "daemon off;"\n' in text
    assert '    param_match initial\n' in text and '    quorum_max 4\n' in text
    assert run(vrrp_track_process, TP_ARGS)['changed'] is False


def test_track_process_bad_quorum_fails(run):
    result = run(vrrp_track_process, dict(TP_ARGS, quorum=0))
    assert result['failed'] is True and 'quorum' in result['msg']


def test_instance_tracks_them(run):
    run(vrrp_track_file, TF_ARGS)
    run(vrrp_track_process, TP_ARGS)
    args = dict(name='VI_1', interface='eth0', virtual_router_id=51, virtual_ipaddress=[dict(address='198.51.100.1/24')],
                track_file=['drain'], track_process=[dict(name='web', weight=-254)])
    result = run(vrrp_instance, args)
    assert result.get('changed') is True, result
    text = run.read('20-vrrp_instance-VI_1.conf')
    assert '    track_file {\n        drain\n    }\n' in text
    assert '    track_process {\n        web weight -254\n    }\n' in text
