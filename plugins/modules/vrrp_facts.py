#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_facts
short_description: Report what the vrrpd daemon and each VRRP instance are doing
version_added: 0.1.0
description:
  - Asks the running vrrpd for its status over its control socket and returns it as C(ansible_facts.vrrp).
  - When the daemon is not running (no socket, or nobody listening on it), C(daemon.running) is V(false) and
    C(instances) is empty; this is not a failure.
  - Only the Python standard library is needed on the host (the control protocol is one JSON line each way).
author:
  - Crans (@crans)
extends_documentation_fragment:
  - crans.vrrp._attributes.FACTS
options:
  socket:
    description: The daemon's control socket (C(vrrpd --control-socket)).
    type: path
    default: /run/vrrpd/vrrpd.sock
  timeout:
    description: Seconds to wait for the daemon's answer.
    type: float
    default: 5.0
notes:
  - Reading the socket needs root (it is mode 0600); use O(ignore:become=true) or connect as root.
seealso:
  - module: crans.vrrp.vrrp_instance
"""

EXAMPLES = r"""
- name: Gather VRRP facts
  crans.vrrp.vrrp_facts:

- name: Only one router holds VI_ALL
  ansible.builtin.assert:
    that:
      - ansible_play_hosts | map('extract', hostvars, ['ansible_facts', 'vrrp', 'instances', 'VI_ALL', 'state'])
        | select('equalto', 'MASTER') | list | length == 1

- name: Show the state of VI_ALL
  ansible.builtin.debug:
    msg: "{{ ansible_facts.vrrp.instances.VI_ALL.state }} (priority {{ ansible_facts.vrrp.instances.VI_ALL.effective_priority }})"
  when: ansible_facts.vrrp.daemon.running
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: complex
  contains:
    vrrp:
      description: The daemon and its instances.
      returned: always
      type: complex
      contains:
        daemon:
          description: The daemon itself.
          returned: always
          type: complex
          contains:
            running:
              description: Whether a daemon answered on the control socket.
              returned: always
              type: bool
              sample: true
            version:
              description: The daemon's version.
              returned: when running
              type: str
              sample: 0.1.0
            pid:
              description: The daemon's process id.
              returned: when running
              type: int
              sample: 1234
            config_file:
              description: The configuration file the daemon read.
              returned: when running
              type: str
              sample: /etc/vrrpd/vrrpd.conf
            socket:
              description: The control socket that was asked.
              returned: always
              type: str
              sample: /run/vrrpd/vrrpd.sock
        instances:
          description: One entry per vrrp_instance, keyed by name (empty when the daemon is not running).
          returned: always
          type: dict
          contains:
            state:
              description: Current state, V(INIT), V(BACKUP), V(MASTER) or V(FAULT).
              type: str
              returned: always
              sample: MASTER
            wanted_state:
              description: The configured initial state.
              type: str
              returned: always
              sample: BACKUP
            priority:
              description: The configured priority.
              type: int
              returned: always
              sample: 100
            effective_priority:
              description: The priority after tracked scripts and interfaces.
              type: int
              returned: always
              sample: 80
            virtual_router_id:
              description: The VRID.
              type: int
              returned: always
              sample: 60
            interface:
              description: The interface of the adverts.
              type: str
              returned: always
              sample: ens18
            version:
              description: The VRRP version.
              type: int
              returned: always
              sample: 2
            vips:
              description: The virtual addresses.
              type: list
              elements: str
              returned: always
              sample: ["185.230.79.62/26"]
            source:
              description: The address adverts are sent from (null while the interface has no usable one,
                which keeps the instance in FAULT).
              type: str
              returned: always
              sample: 198.51.100.11
            faults:
              description: Every current FAULT cause (interface down, no source address, failed tracker).
              type: list
              elements: str
              returned: always
              sample: ["no source address on ens18"]
            fault_reason:
              description: In FAULT, the cause to show (the interface first, then the source address,
                then trackers); null otherwise.
              type: str
              returned: always
              sample: interface ens18 down
            master_address:
              description: Address of the current MASTER as last seen (null when unknown).
              type: str
              returned: always
              sample: 198.51.100.2
            master_priority:
              description: Priority of the current MASTER as last seen (null when unknown).
              type: int
              returned: always
              sample: 150
            last_transition:
              description: Time of the last state change (seconds since the epoch, null before any).
              type: float
              returned: always
              sample: 1735689600.5
            counters:
              description: Advert counters (C(advert_rcvd), C(advert_sent), C(become_master), C(release_master),
                C(pri_zero_rcvd), C(pri_zero_sent)) and C(rejected), the rejected packets by reason.
              type: dict
              returned: always
              sample: {"advert_rcvd": 10, "advert_sent": 0, "become_master": 0, "rejected": {}}
"""

import errno
import json
import socket as socketlib

from ansible.module_utils.basic import AnsibleModule

#: errors meaning "no daemon listens there", which is a fact, not a failure
NOT_RUNNING = (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTSOCK)


def ask_status(path, timeout):
    """One ``status`` request on the control socket (protocol: ``vrrpd.control``)."""
    with socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps({'command': 'status'}).encode() + b'\n')
        data = b''
        while not data.endswith(b'\n'):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode('utf-8'))


def gather(module):
    path = module.params['socket']
    not_running = dict(daemon=dict(running=False, socket=path), instances={})
    try:
        answer = ask_status(path, module.params['timeout'])
    except OSError as exc:
        if exc.errno in NOT_RUNNING:
            return not_running
        if isinstance(exc, socketlib.timeout):
            module.fail_json(msg='vrrpd did not answer on %s within %s s' % (path, module.params['timeout']))
        module.fail_json(msg='cannot talk to vrrpd on %s: %s' % (path, exc))
    except ValueError as exc:
        module.fail_json(msg='vrrpd sent an answer that is not JSON on %s: %s' % (path, exc))
    if not answer.get('ok'):
        module.fail_json(msg='vrrpd refused the status request: %s' % answer.get('error', 'unknown error'))
    daemon = dict(answer.get('daemon') or {})
    daemon.update(running=True, socket=path)
    return dict(daemon=daemon, instances=answer.get('instances') or {})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type='path', default='/run/vrrpd/vrrpd.sock'),
            timeout=dict(type='float', default=5.0),
        ),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, ansible_facts=dict(vrrp=gather(module)))


if __name__ == '__main__':
    main()
