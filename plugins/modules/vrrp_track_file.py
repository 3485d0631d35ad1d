#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_track_file
short_description: Manage one C(track_file) block of the vrrpd configuration
version_added: 0.2.0
description:
  - Writes one C(track_file NAME { ... }) block (an integer in a file that instances and sync groups can track),
    in keepalived syntax, to its own file under O(config_dir), or removes it.
  - vrrpd watches the file with inotify; the value times the weight is added to the priority, and with weight 0
    a non-zero value puts the tracking instances in FAULT.
author:
  - Crans (@crans)
extends_documentation_fragment:
  - crans.vrrp._attributes
  - crans.vrrp._block
options:
  name:
    description: The tracker's name, used by C(track_file) of instances and sync groups; it names the file too.
    type: str
    required: true
  file:
    description: Path of the file holding the integer (C(file)). Required with O(state=present).
    type: str
  weight:
    description:
      - Multiplier of the file's value, -254 to 254 (default 1); 0 means a non-zero value is a FAULT.
      - A dict with C(value) and C(reverse) reverses the effect.
    type: raw
  init_file:
    description:
      - Create the file when missing (C(init_file)); V(true), or a dict with C(value) (-254 to 254) and
        C(overwrite) (write it at start even when the file exists).
    type: raw
seealso:
  - module: crans.vrrp.vrrp_instance
"""

EXAMPLES = r"""
- name: A file operators write to drain the node
  crans.vrrp.vrrp_track_file:
    name: drain
    file: /run/vrrpd/drain
    weight: -50
    init_file:
      value: 0
  notify: Reload vrrpd
"""

RETURN = r"""
path:
  description: The file that holds the block.
  returned: always
  type: str
  sample: /etc/vrrpd/conf.d/05-track_file-drain.conf
config:
  description: The block as the runtime's schema validated it (dict form).
  returned: when O(state=present)
  type: dict
  sample: {"file": "/run/vrrpd/drain", "weight": -50}
rendered:
  description: The file's content in keepalived syntax.
  returned: when O(state=present)
  type: str
  sample: "track_file drain {\n    file /run/vrrpd/drain\n}\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crans.vrrp.plugins.module_utils._vrrp_common import (
    common_argument_spec, run_block_module)


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        file=dict(type='str'),
        weight=dict(type='raw'),
        init_file=dict(type='raw'),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_block_module(module, 'track_file', 'crans.vrrp.vrrp_track_file')


if __name__ == '__main__':
    main()
