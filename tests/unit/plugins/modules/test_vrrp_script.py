# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from ansible_collections.crans.vrrp.plugins.modules import vrrp_script

FILE = '10-vrrp_script-chk_http.conf'
ARGS = dict(name='chk_http', script='/usr/bin/curl -fs "http://127.0.0.1/a b"', interval=2, timeout=1,
            fall=2, rise=3, weight=dict(value=-20, reverse=True), user='nobody', init_fail=True)


def test_script_written_quoted_and_idempotent(run):
    result = run(vrrp_script, ARGS, diff=True)
    assert result['changed'] is True, result
    text = run.read(FILE)
    assert 'vrrp_script chk_http {\n' in text
    assert '    script "/usr/bin/curl -fs \\"http://127.0.0.1/a b\\""\n' in text
    assert '    weight -20 reverse\n' in text
    assert '    init_fail\n' in text
    assert 'weight -20 reverse' in run.file_diff(result, run.path(FILE))['after']
    assert run(vrrp_script, ARGS)['changed'] is False


def test_check_mode_then_real_then_check_again(run):
    assert run(vrrp_script, ARGS, check=True)['changed'] is True
    assert not os.path.exists(run.path(FILE))
    assert run(vrrp_script, ARGS)['changed'] is True
    assert run(vrrp_script, ARGS, check=True)['changed'] is False


def test_weight_out_of_range(run):
    result = run(vrrp_script, dict(ARGS, weight=300))
    assert result['failed'] is True
    assert 'weight' in result['msg'] and '300' in result['msg']


def test_script_required(run):
    result = run(vrrp_script, dict(name='chk'))
    assert result['failed'] is True
    assert 'script: required option missing' in result['msg']
