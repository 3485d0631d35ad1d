#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_switchover
short_description: Move a VRRP instance's MASTER to this host without an outage
version_added: 0.1.0
description:
  - Run on the host that should become MASTER (for example before maintenance on the current one). It asks the
    local vrrpd to take the instance over at once (C(vrrpctl switchover)) and waits until this host is MASTER and no
    other router advertises any more, that is every other node has gone BACKUP.
  - The daemon configures and announces the virtual addresses before it sends the advert that makes the old master
    let go, so there is no moment without a master; clients lose no packet.
  - The takeover uses a runtime priority one above the old master's. It is never written to the configuration and
    lasts until C(vrrpctl priority INSTANCE --reset), a reload or a restart of the daemon; after that the configured
    priorities (and preemption) decide again.
  - Only the Python standard library is needed on the host.
author:
  - Crans (@crans)
attributes:
  check_mode:
    support: full
    description: In check mode nothing is asked of the daemon but its status; the result says whether it would move.
  diff_mode:
    support: none
    description: Nothing is written, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
options:
  instance:
    description: Name of the vrrp_instance to move here.
    type: str
    required: true
  socket:
    description: The daemon's control socket (C(vrrpd --control-socket)).
    type: path
    default: /run/vrrpd/vrrpd.sock
  timeout:
    description: Seconds to wait for this host to be MASTER with no other router advertising.
    type: float
    default: 30.0
notes:
  - Talking to the control socket needs root (it is mode 0600); use O(ignore:become=true) or connect as root.
  - Idempotent, when this host is already MASTER and no other router advertises, nothing changes.
  - That the others are BACKUP is read off the wire (no advert from another router for three advert intervals);
    to read it from the other hosts themselves, gather M(crans.vrrp.vrrp_facts) on them afterwards (see the examples).
seealso:
  - module: crans.vrrp.vrrp_facts
"""

EXAMPLES = r"""
- name: Move VI_ALL to router-b before maintenance on router-a
  crans.vrrp.vrrp_switchover:
    instance: VI_ALL
  when: inventory_hostname == 'router-b'
  become: true
  register: moved

- name: Every other router reports BACKUP
  crans.vrrp.vrrp_facts:
  become: true
  register: vrrp
  until: vrrp.ansible_facts.vrrp.instances.VI_ALL.state == ('MASTER' if inventory_hostname == 'router-b' else 'BACKUP')
  retries: 10
  delay: 1

- name: Give the configured priorities back once maintenance is over
  ansible.builtin.command: vrrpctl priority VI_ALL --reset
  when: inventory_hostname == 'router-b'
  become: true
  changed_when: true
"""

RETURN = r"""
state:
  description: The instance's state at the end (V(MASTER) unless check mode found it BACKUP).
  returned: always
  type: str
  sample: MASTER
previous_master:
  description: Address of the MASTER this host took over from (null when it already was MASTER or saw none).
  returned: always
  type: str
  sample: 198.51.100.1
runtime_priority:
  description: The runtime priority the takeover set (null when none is set).
  returned: always
  type: int
  sample: 151
elapsed:
  description: Seconds from the request until this host was MASTER and no other router advertised any more.
  returned: always
  type: float
  sample: 3.12
"""

import errno
import json
import socket as socketlib
import time

from ansible.module_utils.basic import AnsibleModule

POLL = 0.1


def ask(path, command, timeout, **args):
    """One request on the control socket (protocol: ``vrrpd.control``)."""
    with socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps(dict(command=command, **args)).encode() + b'\n')
        data = b''
        while not data.endswith(b'\n'):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode('utf-8'))


class Daemon(object):
    """The local vrrpd, as this module asks it things; every failure ends the module with a clear message."""

    def __init__(self, module):
        self.module = module
        self.path = module.params['socket']

    def request(self, command, **args):
        try:
            answer = ask(self.path, command, 10.0, **args)
        except OSError as exc:
            hint = ' (is vrrpd running?)' if exc.errno in (errno.ENOENT, errno.ECONNREFUSED) else ''
            self.module.fail_json(msg='cannot talk to vrrpd on %s: %s%s' % (self.path, exc, hint))
        except ValueError as exc:
            self.module.fail_json(msg='vrrpd sent an answer that is not JSON on %s: %s' % (self.path, exc))
        if not answer.get('ok'):
            self.module.fail_json(msg='vrrpd refused %s: %s' % (command, answer.get('error', 'unknown error')))
        return answer

    def instance(self):
        name = self.module.params['instance']
        instances = self.request('status').get('instances') or {}
        if name not in instances:
            self.module.fail_json(msg='vrrpd has no instance %s; it has: %s' % (name, ', '.join(sorted(instances))))
        return instances[name]


def wait_alone(daemon, deadline):
    """Wait until the instance is MASTER and no other router advertised for three advert intervals.

    A MASTER receives adverts only from another router that still believes it is MASTER; a BACKUP sends none.
    """
    quiet_since, last_rcvd, inst = None, None, daemon.instance()
    while True:
        now = time.monotonic()
        rcvd = inst['counters']['advert_rcvd']
        if inst['state'] != 'MASTER' or rcvd != last_rcvd:
            quiet_since, last_rcvd = now, rcvd
        elif now - quiet_since >= 3 * float(inst['advert_int']):
            return inst
        if now > deadline:
            daemon.module.fail_json(msg='%s is %s and another router still advertises after %s s'
                                    % (daemon.module.params['instance'], inst['state'], daemon.module.params['timeout']),
                                    state=inst['state'])
        time.sleep(POLL)
        inst = daemon.instance()


def run(module):
    daemon = Daemon(module)
    start = time.monotonic()
    inst = daemon.instance()
    result = dict(changed=False, state=inst['state'], previous_master=None,
                  runtime_priority=inst.get('runtime_priority'), elapsed=0.0)
    if inst['state'] != 'MASTER':
        if inst['state'] != 'BACKUP':
            module.fail_json(msg='%s is %s: only a BACKUP can take over' % (module.params['instance'], inst['state']),
                             **result)
        result.update(changed=True, previous_master=inst.get('master_address'))
        if module.check_mode:
            return result
        answer = daemon.request('switchover', instance=module.params['instance'])
        result.update(previous_master=answer.get('previous_master'), runtime_priority=answer.get('runtime_priority'))
    if module.check_mode:
        return result
    inst = wait_alone(daemon, start + module.params['timeout'])
    result.update(state=inst['state'], elapsed=round(time.monotonic() - start, 3))
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            instance=dict(type='str', required=True),
            socket=dict(type='path', default='/run/vrrpd/vrrpd.sock'),
            timeout=dict(type='float', default=30.0),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == '__main__':
    main()
