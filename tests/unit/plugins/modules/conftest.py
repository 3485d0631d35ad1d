# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process with ansible-core's own argument patcher."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.common import warnings as common_warnings
from ansible.module_utils.testing import patch_module_args


class ModuleRun:
    """Runs ``module.main()`` with arguments and returns its JSON result (``failed`` set on failure)."""

    def __init__(self, capsys, tmp_path):
        self.capsys = capsys
        self.tmp_path = tmp_path
        self.config_dir = str(tmp_path / 'etc' / 'conf.d')
        self.main_config = str(tmp_path / 'etc' / 'vrrpd.conf')

    def __call__(self, module, args, check=False, diff=False, files=True):
        args = dict(args)
        if files:
            args.setdefault('config_dir', self.config_dir)
            args.setdefault('main_config', self.main_config)
        args['_ansible_check_mode'] = check
        args['_ansible_diff'] = diff
        (self.tmp_path / 'remote_tmp').mkdir(mode=0o700, exist_ok=True)
        args['_ansible_remote_tmp'] = str(self.tmp_path / 'remote_tmp')
        args['_ansible_keep_remote_files'] = False
        self.capsys.readouterr()
        # warnings are collected process-wide; each run starts clean, as a real module process does
        warnings_store = getattr(common_warnings, '_global_warnings', None)
        if warnings_store is not None:
            warnings_store.clear()
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        out = self.capsys.readouterr().out
        return json.loads(out)

    @staticmethod
    def warnings(result):
        """Warning texts (ansible-core 2.19 returns structured warnings)."""
        return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]

    @staticmethod
    def file_diff(result, path):
        """The diff entry of one file (a module that also creates the main file returns a list)."""
        diffs = result['diff'] if isinstance(result['diff'], list) else [result['diff']]
        return [d for d in diffs if path in (d['before_header'], d['after_header'])][0]

    def path(self, name):
        return str(self.tmp_path / 'etc' / 'conf.d' / name)

    def read(self, name):
        with open(self.path(name), encoding='utf-8') as stream:
            return stream.read()


@pytest.fixture
def run(capsys, tmp_path):
    return ModuleRun(capsys, tmp_path)
