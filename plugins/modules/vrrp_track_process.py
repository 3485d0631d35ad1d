#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_track_process
short_description: Manage one C(vrrp_track_process) block of the vrrpd configuration
version_added: 0.2.0
description:
  - Writes one C(vrrp_track_process NAME { ... }) block (a set of processes that instances and sync groups can
    track), in keepalived syntax, to its own file under O(config_dir), or removes it.
  - vrrpd counts the matching processes (proc connector, or /proc scans); between O(quorum) and O(quorum_max)
    the tracker is up.
author:
  - Crans (@crans)
extends_documentation_fragment:
  - crans.vrrp._attributes
  - crans.vrrp._block
options:
  name:
    description: The tracker's name, used by C(track_process) of instances and sync groups; it names the file too.
    type: str
    required: true
  process:
    description:
      - The process name (compared with its C(comm)), or a list of words (argv[0] and the arguments, compared
        with the command line). Required with O(state=present).
    type: raw
  param_match:
    description: How the arguments are compared; V(true) for exact, V(initial) or V(partial).
    type: raw
  weight:
    description:
      - Priority change, -254 to 254; 0 (default) means FAULT without quorum.
      - A dict with C(value) and C(reverse) reverses the effect.
    type: raw
  quorum:
    description: Fewest matching processes for the tracker to be up (default 1).
    type: int
  quorum_max:
    description: Most matching processes for the tracker to be up; 0 means none may run.
    type: int
  delay:
    description: Seconds before a quorum gained or lost counts (sets both delays).
    type: float
  fork_delay:
    description: Seconds before a quorum gained counts.
    type: float
  terminate_delay:
    description: Seconds before a quorum lost counts.
    type: float
  full_command:
    description: Compare argv[0] of the command line rather than the process's C(comm).
    type: bool
seealso:
  - module: crans.vrrp.vrrp_instance
"""

EXAMPLES = r"""
- name: Fault the instance while no nginx runs
  crans.vrrp.vrrp_track_process:
    name: nginx
    process: nginx
    terminate_delay: 2
  notify: Reload vrrpd
"""

RETURN = r"""
path:
  description: The file that holds the block.
  returned: always
  type: str
  sample: /etc/vrrpd/conf.d/06-vrrp_track_process-nginx.conf
config:
  description: The block as the runtime's schema validated it (dict form).
  returned: when O(state=present)
  type: dict
  sample: {"process": "nginx", "terminate_delay": 2}
rendered:
  description: The file's content in keepalived syntax.
  returned: when O(state=present)
  type: str
  sample: "vrrp_track_process nginx {\n    process nginx\n}\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crans.vrrp.plugins.module_utils._vrrp_common import (
    common_argument_spec, run_block_module)


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        process=dict(type='raw'),
        param_match=dict(type='raw'),
        weight=dict(type='raw'),
        quorum=dict(type='int'),
        quorum_max=dict(type='int'),
        delay=dict(type='float'),
        fork_delay=dict(type='float'),
        terminate_delay=dict(type='float'),
        full_command=dict(type='bool'),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_block_module(module, 'vrrp_track_process', 'crans.vrrp.vrrp_track_process')


if __name__ == '__main__':
    main()
