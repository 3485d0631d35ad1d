#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_script
short_description: Manage one C(vrrp_script) block of the vrrpd configuration
version_added: 0.1.0
description:
  - Writes one C(vrrp_script NAME { ... }) block (a health check instances can track), in keepalived syntax,
    to its own file under O(config_dir), or removes it.
  - Options are named after keepalived's keywords; everything the runtime reads in a C(vrrp_script) block can be set.
author:
  - Crans (@crans)
extends_documentation_fragment:
  - crans.vrrp._attributes
  - crans.vrrp._block
options:
  name:
    description: The script's name, used by C(track_script) of instances and sync groups; it names the file too.
    type: str
    required: true
  script:
    description:
      - The command to run (C(script)); exit status 0 is success. Quote words inside the string to pass
        arguments with spaces. Required with O(state=present).
    type: str
  interval:
    description: Seconds between runs.
    type: float
  timeout:
    description: Seconds after which a run counts as failed.
    type: float
  weight:
    description:
      - Priority change while the script succeeds (positive) or fails (negative), -253 to 253.
      - A dict with C(value) and C(reverse) reverses the effect.
    type: raw
  rise:
    description: Successes needed to count as OK.
    type: int
  fall:
    description: Failures needed to count as KO.
    type: int
  user:
    description: User (string) or dict with C(user) and C(group) the script runs as.
    type: raw
  init_fail:
    description: Start in the failed state.
    type: bool
seealso:
  - module: crans.vrrp.vrrp_instance
"""

EXAMPLES = r"""
- name: Health check of the web server
  crans.vrrp.vrrp_script:
    name: chk_http
    script: "/usr/bin/curl -fs http://127.0.0.1/"
    interval: 2
    timeout: 1
    fall: 2
    rise: 2
    weight: -20
    user: nobody
  notify: Reload vrrpd
"""

RETURN = r"""
path:
  description: The file that holds the block.
  returned: always
  type: str
  sample: /etc/vrrpd/conf.d/10-vrrp_script-chk_http.conf
config:
  description: The block as the runtime's schema validated it (dict form).
  returned: when O(state=present)
  type: dict
  sample: {"script": "/usr/bin/true", "interval": 2, "weight": -20}
rendered:
  description: The file's content in keepalived syntax.
  returned: when O(state=present)
  type: str
  sample: "vrrp_script chk_http {\n    script /usr/bin/true\n}\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crans.vrrp.plugins.module_utils._vrrp_common import (
    common_argument_spec, run_block_module)


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        script=dict(type='str'),
        interval=dict(type='float'),
        timeout=dict(type='float'),
        weight=dict(type='raw'),
        rise=dict(type='int'),
        fall=dict(type='int'),
        user=dict(type='raw'),
        init_fail=dict(type='bool'),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_block_module(module, 'vrrp_script', 'crans.vrrp.vrrp_script')


if __name__ == '__main__':
    main()
