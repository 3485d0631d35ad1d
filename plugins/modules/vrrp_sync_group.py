#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_sync_group
short_description: Manage one C(vrrp_sync_group) block of the vrrpd configuration
version_added: 0.1.0
description:
  - Writes one C(vrrp_sync_group NAME { ... }) block (instances that change state together), in keepalived
    syntax, to its own file under O(config_dir), or removes it.
  - Options are named after keepalived's keywords; everything the runtime reads in a C(vrrp_sync_group) block
    can be set.
author:
  - Crans (@crans)
extends_documentation_fragment:
  - crans.vrrp._attributes
  - crans.vrrp._block
options:
  name:
    description: The group's name; it names the file too.
    type: str
    required: true
  group:
    description:
      - The member instances (C(group) block); each must exist (see M(crans.vrrp.vrrp_instance)) and belong
        to no other group. Required with O(state=present).
    type: list
    elements: str
  notify:
    description:
      - Command run on every state change of the group with C(GROUP NAME STATE PRIORITY) as arguments.
      - Either a string or a dict with C(command), C(user) and C(group).
    type: raw
  notify_master:
    description: Command run when the group becomes MASTER; same form as O(notify).
    type: raw
  notify_backup:
    description: Command run when the group becomes BACKUP; same form as O(notify).
    type: raw
  notify_fault:
    description: Command run when the group enters FAULT; same form as O(notify).
    type: raw
  notify_stop:
    description: Command run when the group stops; same form as O(notify).
    type: raw
  smtp_alert:
    description: Send a mail on state changes of the group.
    type: bool
  track_interface:
    description: Interfaces tracked by every member; names, or dicts with C(name), C(weight) and C(reverse).
    type: list
    elements: raw
  track_script:
    description: vrrp_scripts tracked by every member; names, or dicts with C(name), C(weight) and C(reverse).
    type: list
    elements: raw
  track_file:
    description: track_file blocks tracked by every member; names, or dicts with C(name), C(weight) and C(reverse).
    type: list
    elements: raw
  track_process:
    description: vrrp_track_process blocks tracked by every member; same form as O(track_file).
    type: list
    elements: raw
  sync_group_tracking_weight:
    description: Let weighted trackers of the group change the members' priorities instead of faulting them.
    type: bool
seealso:
  - module: crans.vrrp.vrrp_instance
"""

EXAMPLES = r"""
- name: Inside and outside addresses move together
  crans.vrrp.vrrp_sync_group:
    name: VG_ROUTER
    group:
      - VI_INSIDE
      - VI_OUTSIDE
    notify: /usr/local/bin/vrrp-group-changed
  notify: Reload vrrpd
"""

RETURN = r"""
path:
  description: The file that holds the block.
  returned: always
  type: str
  sample: /etc/vrrpd/conf.d/30-vrrp_sync_group-VG_ROUTER.conf
config:
  description: The block as the runtime's schema validated it (dict form).
  returned: when O(state=present)
  type: dict
  sample: {"group": ["VI_INSIDE", "VI_OUTSIDE"]}
rendered:
  description: The file's content in keepalived syntax.
  returned: when O(state=present)
  type: str
  sample: "vrrp_sync_group VG_ROUTER {\n    group {\n        VI_INSIDE\n    }\n}\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crans.vrrp.plugins.module_utils._vrrp_common import (
    common_argument_spec, notify_options, run_block_module, track_option)


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        group=dict(type='list', elements='str'),
        smtp_alert=dict(type='bool'),
        track_interface=track_option(),
        track_script=track_option(),
        track_file=track_option(),
        track_process=track_option(),
        sync_group_tracking_weight=dict(type='bool'),
    )
    spec.update(notify_options())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_block_module(module, 'vrrp_sync_group', 'crans.vrrp.vrrp_sync_group')


if __name__ == '__main__':
    main()
