# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vrrp role's phase tags select its phases (what ``--tags`` would run, listed by ansible-playbook)."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

COLLECTION = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS_ROOT = COLLECTION.parents[2]  # the directory holding ansible_collections/
TAGS = ('vrrp_install', 'vrrp_config', 'vrrp_service')
PLAY = """\
- name: The role
  hosts: localhost
  gather_facts: false
  roles:
    - crans.vrrp.vrrp
"""


def list_tasks(tmp_path, *args):
    playbook = tmp_path / 'site.yml'
    playbook.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_NOCOLOR='1')
    argv = [shutil.which('ansible-playbook') or os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')]
    result = subprocess.run(argv + ['-i', 'localhost,', '--list-tasks', str(playbook)] + list(args),
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # lines look like "      crans.vrrp.vrrp : Install the systemd unit\tTAGS: [vrrp_service]"
    return re.findall(r'^\s+crans\.vrrp\.vrrp : (.+?)\tTAGS: \[(.*)\]$', result.stdout, re.MULTILINE)


@pytest.fixture(scope='module')
def all_tasks(tmp_path_factory):
    if COLLECTION.parent.name != 'crans' or COLLECTION.parents[1].name != 'ansible_collections':
        pytest.fail('run through ansible-test (tests/ansible-test.sh units): it needs the collection layout')
    return list_tasks(tmp_path_factory.mktemp('tags'))


def test_every_task_carries_one_phase_tag(all_tasks):
    assert len(all_tasks) > 20, all_tasks
    # the argument validation ansible adds runs always, whatever the tags
    untagged = [name for name, tags in all_tasks if not set(TAGS + ('always',)) & set(tags.split(', '))]
    assert not untagged, 'tasks without a phase tag: %s' % untagged


@pytest.mark.parametrize('tag, expected, unexpected', [
    ('vrrp_install', 'Install the runtime into the venv', 'Write the instance blocks'),
    ('vrrp_config', 'Write the instance blocks', 'Install the systemd unit'),
    ('vrrp_service', 'Install the systemd unit', 'Install the runtime into the venv'),
])
def test_a_tag_selects_its_phase_only(tmp_path, tag, expected, unexpected):
    names = [name for name, _tags in list_tasks(tmp_path, '--tags', tag)]
    assert expected in names and unexpected not in names, names
