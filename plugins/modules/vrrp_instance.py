#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_instance
short_description: Manage one C(vrrp_instance) block of the vrrpd configuration
version_added: 0.1.0
description:
  - Writes one C(vrrp_instance NAME { ... }) block, in keepalived syntax, to its own file under O(config_dir),
    or removes it.
  - Options are named after keepalived's keywords and take the runtime's dict form of them; everything the
    runtime reads in a C(vrrp_instance) block can be set.
  - The VRRP initial state is O(initial_state), because O(state) means present or absent.
author:
  - Crans (@crans)
extends_documentation_fragment:
  - crans.vrrp._attributes
  - crans.vrrp._block
options:
  name:
    description: The instance name (C(vrrp_instance NAME)); it names the file too.
    type: str
    required: true
  initial_state:
    description:
      - keepalived's C(state) keyword, the state the instance starts in.
      - Without it, an instance with O(priority=255) starts as MASTER and any other as BACKUP.
      - V(MASTER) without O(priority) means priority 255, as in keepalived.
    type: str
    choices: [MASTER, BACKUP]
  interface:
    description: The interface VRRP adverts are sent and received on (C(interface)).
    type: str
  virtual_router_id:
    description: The VRID, 1 to 255, shared by every router of the group. Required with O(state=present).
    type: int
  priority:
    description: Priority of this router in the group, 1 to 255 (255 is the address owner).
    type: int
  advert_int:
    description:
      - Advertisement interval in seconds. VRRP version 2 carries whole seconds from 1 to 255, version 3
        steps of 10 ms from 0.01 to 40.95; other decimals are rounded to what the version carries, and
        values outside those bounds are refused (by the schema below 0.01 or above 255, by C(vrrpd -t) otherwise).
    type: float
  version:
    description: VRRP version, V(2) or V(3) (IPv6 addresses always use version 3).
    type: int
  strict_mode:
    description: Enforce RFC compliance for this instance (C(strict_mode)).
    type: bool
  virtual_ipaddress:
    description: The virtual addresses (C(virtual_ipaddress) block), one dict per line.
    type: list
    elements: dict
    suboptions: &vip
      address:
        description: The address, with an optional C(/prefix) (V(185.230.79.62/26), V(2001:db8::1/64)).
        type: str
        required: true
      brd:
        description: Broadcast address (IPv4), or V(+) to compute it, or V(-) for none.
        type: str
      dev:
        description: Interface to put the address on (default the instance's O(interface)).
        type: str
      scope:
        description: Address scope, one of V(global), V(site), V(link), V(host), V(nowhere).
        type: str
      label:
        description: Address label (C(ip addr ... label)).
        type: str
      no_track:
        description: Do not put the instance in FAULT when the address's interface goes down.
        type: bool
      peer:
        description: Peer address of a point-to-point address (C(ip addr ... peer)), with an optional C(/prefix).
        type: str
      preferred_lft:
        description: Preferred lifetime of an IPv6 address in seconds, or V(forever).
        type: str
      noprefixroute:
        description: Do not add the prefix route of the address.
        type: bool
      nodad:
        description: Written C(-nodad); IPv6 addresses are always added without duplicate address detection.
        type: bool
      home:
        description: IPv6 home address (Mobile IPv6).
        type: bool
      mngtmpaddr:
        description: IPv6 address managing temporary addresses.
        type: bool
  virtual_ipaddress_excluded:
    description: Addresses carried but not advertised (C(virtual_ipaddress_excluded)), same form as O(virtual_ipaddress).
    type: list
    elements: dict
    suboptions: *vip
  virtual_routes:
    description: Routes added with the addresses (C(virtual_routes) block), one dict per route.
    type: list
    elements: dict
    suboptions:
      to:
        description: Destination prefix, or V(default).
        type: str
        required: true
      src:
        description: Preferred source address.
        type: str
      via:
        description: Gateway address.
        type: str
      dev:
        description: Output interface.
        type: str
      table:
        description: Routing table, number or name.
        type: raw
      metric:
        description: Route metric.
        type: int
      scope:
        description: Route scope.
        type: str
      protocol:
        description: Route protocol.
        type: str
      type:
        description: Route type, installed as such, one of V(unicast), V(blackhole), V(unreachable), V(prohibit), V(throw).
        type: str
      no_track:
        description: Do not track the route's interface.
        type: bool
      onlink:
        description: Pretend the gateway is on link.
        type: bool
      from:
        description: Source prefix the route applies to (C(from), IPv6).
        type: str
      mtu:
        description: Path MTU of the route.
        type: int
      mtu_lock:
        description: Lock the MTU (C(mtu lock N)).
        type: bool
      advmss:
        description: MSS advertised to peers on this route.
        type: int
      pref:
        description: IPv6 router preference, V(low), V(medium) or V(high).
        type: str
      nexthop:
        description: Multipath next hops, each with C(via), C(dev), C(weight) and C(onlink).
        type: list
        elements: dict
  virtual_rules:
    description: Policy routing rules (C(virtual_rules), C(ip rule) syntax) added while MASTER, one dict per rule.
    type: list
    elements: dict
    suboptions:
      from:
        description: Source prefix, or V(all).
        type: str
      to:
        description: Destination prefix, or V(all).
        type: str
      table:
        description: Table to look up, number or V(main), V(local), V(default).
        type: raw
      preference:
        description: Rule priority.
        type: int
      iif:
        description: Input interface.
        type: str
      oif:
        description: Output interface.
        type: str
      fwmark:
        description: Firewall mark, C(MARK[/MASK]).
        type: str
      tos:
        description: Type of service.
        type: int
      goto:
        description: Jump to the rule of this priority.
        type: int
      suppress_prefixlength:
        description: Reject routing decisions with a prefix this long or shorter.
        type: int
      action:
        description: V(unreachable), V(prohibit), V(blackhole) or V(nop) instead of a table lookup.
        type: str
      family:
        description: V(inet6) for a rule without prefixes that applies to IPv6.
        type: str
      not:
        description: Invert the selector.
        type: bool
      l3mdev:
        description: Look up the table of the VRF device.
        type: bool
      no_track:
        description: Do not track the rule.
        type: bool
  no_virtual_ipaddress:
    description: Allow an instance without virtual addresses (C(no_virtual_ipaddress)).
    type: bool
  check_unicast_src:
    description: Drop unicast adverts from sources that are not peers, and TTLs outside a peer's range.
    type: bool
  unicast_fault_no_peer:
    description: A unicast instance without peers goes to FAULT instead of falling back to multicast.
    type: bool
  vmac_xmit_base:
    description: With O(use_vmac), send and receive adverts on the parent interface.
    type: bool
  promote_secondaries:
    description: Set C(promote_secondaries) on O(interface) while vrrpd runs.
    type: bool
  kernel_rx_buf_size:
    description: Receive buffer size of the instance's VRRP socket, in bytes.
    type: int
  authentication:
    description: The C(authentication) block (VRRP version 2 only).
    type: dict
    suboptions:
      auth_type:
        description: V(PASS) or V(AH).
        type: str
      auth_pass:
        description:
          - The password (8 characters are used). Never logged; shown as C(********) in diffs and return values.
          - A new file is created with mode C(0600) before it becomes visible.
        type: str
  nopreempt:
    description:
      - V(true) writes C(nopreempt) (a higher priority BACKUP does not take over from a running MASTER),
        V(false) writes C(preempt).
    type: bool
  preempt_delay:
    description: Seconds to wait after startup before preempting (0 to 1000).
    type: float
  notify:
    description:
      - Command run on every state change with C(INSTANCE NAME STATE PRIORITY) as arguments (C(notify)).
      - Either a string (quote the command inside it to pass arguments), or a dict with C(command), C(user)
        and C(group) to run it as another user.
    type: raw
  notify_master:
    description: Command run when the instance becomes MASTER; same form as O(notify).
    type: raw
  notify_backup:
    description: Command run when the instance becomes BACKUP; same form as O(notify).
    type: raw
  notify_fault:
    description: Command run when the instance enters FAULT; same form as O(notify).
    type: raw
  notify_stop:
    description: Command run when the instance stops; same form as O(notify).
    type: raw
  smtp_alert:
    description: Send a mail on state changes (uses the global SMTP settings).
    type: bool
  unicast_src_ip:
    description: Source address of unicast adverts.
    type: str
  unicast_peer:
    description: Send adverts by unicast to these addresses instead of multicast; an address, or a dict with C(address), C(min_ttl) and C(max_ttl).
    type: list
    elements: raw
  mcast_src_ip:
    description: Source address of multicast adverts.
    type: str
  mcast_dst_ip:
    description: Multicast group of the adverts (default 224.0.0.18 or ff02::12).
    type: str
  garp_master_delay:
    description: Seconds after becoming MASTER before the second set of gratuitous ARPs.
    type: float
  garp_master_repeat:
    description: Number of gratuitous ARPs sent at once when becoming MASTER.
    type: int
  garp_master_refresh:
    description: Seconds between periodic gratuitous ARP refreshes while MASTER (0 for none).
    type: float
  garp_master_refresh_repeat:
    description: Number of gratuitous ARPs sent at each refresh.
    type: int
  garp_lower_prio_delay:
    description:
      - Seconds between the two bursts of gratuitous ARPs a MASTER sends when it hears a lower priority
        advert; no new cycle starts before this (default C(vrrp_garp_lower_prio_delay)).
    type: float
  garp_lower_prio_repeat:
    description: Gratuitous ARPs in each such burst (0 for none; default C(vrrp_garp_lower_prio_repeat)).
    type: int
  accept:
    description: V(true) writes C(accept) (the MASTER accepts packets to the addresses it does not own), V(false) C(no_accept).
    type: bool
  track_interface:
    description:
      - Interfaces whose state changes the instance's (C(track_interface) block).
      - Each item is an interface name, or a dict with C(name), C(weight) (-253 to 253) and C(reverse).
    type: list
    elements: raw
  track_script:
    description:
      - vrrp_scripts (see M(crans.vrrp.vrrp_script)) whose result changes the instance's priority or state.
      - Each item is a script name, or a dict with C(name), C(weight) (-253 to 253) and C(reverse) (V(false)
        writes C(noreverse)).
    type: list
    elements: raw
  track_file:
    description:
      - track_file blocks (see M(crans.vrrp.vrrp_track_file)) whose value changes the instance's priority or state.
      - Each item is a name, or a dict with C(name), C(weight) (-254 to 254) and C(reverse).
    type: list
    elements: raw
  track_process:
    description:
      - vrrp_track_process blocks (see M(crans.vrrp.vrrp_track_process)) whose quorum changes the instance's
        priority or state.
      - Each item is a name, or a dict with C(name), C(weight) (-254 to 254) and C(reverse).
    type: list
    elements: raw
  dont_track_primary:
    description: Ignore faults of O(interface).
    type: bool
  use_vmac:
    description: Use a VRRP virtual MAC interface; V(true) for the default name, the interface name to create, or a dict with C(name) and C(mac).
    type: raw
  lower_prio_no_advert:
    description: Do not answer adverts of lower priority (C(lower_prio_no_advert)).
    type: bool
  higher_prio_send_advert:
    description: Send an advert at once when a higher priority advert is received while MASTER.
    type: bool
  owner_ignore_adverts:
    description: An address owner (priority 255) ignores received adverts.
    type: bool
  skip_check_adv_addr:
    description: Do not check the addresses in adverts from the current MASTER.
    type: bool
  v3_checksum_as_v2:
    description: Compute VRRPv3 IPv4 checksums without the pseudo-header, like old keepalived releases.
    type: bool
  down_timer_adverts:
    description: Number of missed adverts before the MASTER is declared down (1 to 100).
    type: int
  track_src_ip:
    description: FAULT while the configured O(unicast_src_ip) or O(mcast_src_ip) is not on O(interface).
    type: bool
seealso:
  - module: crans.vrrp.vrrp_global
  - module: crans.vrrp.vrrp_script
  - module: crans.vrrp.vrrp_sync_group
  - module: crans.vrrp.vrrp_facts
"""

EXAMPLES = r"""
# The instance of Crans' router, as keepalived.conf had it:
#   vrrp_instance VI_ALL {
#     state MASTER
#     priority 150
#     smtp_alert
#     interface ens18
#     virtual_router_id 60
#     advert_int 2
#     notify /var/local/services/keepalived/keepalived.py
#     virtual_ipaddress {
#       185.230.79.62/26 brd 185.230.79.63 dev ens22 scope global
#     }
#   }
- name: Router VRRP instance
  crans.vrrp.vrrp_instance:
    name: VI_ALL
    initial_state: MASTER
    priority: 150
    smtp_alert: true
    interface: ens18
    virtual_router_id: 60
    advert_int: 2
    notify: /var/local/services/keepalived/keepalived.py
    virtual_ipaddress:
      - address: 185.230.79.62/26
        brd: 185.230.79.63
        dev: ens22
        scope: global
  notify: Reload vrrpd

- name: IPv6 instance (VRRPv3), tracking a script, password-free
  crans.vrrp.vrrp_instance:
    name: VI_6
    interface: eth0
    virtual_router_id: 61
    priority: 100
    version: 3
    advert_int: 0.5
    nopreempt: true
    virtual_ipaddress:
      - address: 2001:db8::1/64
    track_script:
      - name: chk_http
        weight: -20
    notify_master:
      command: /usr/local/bin/became-master
      user: nobody

- name: Remove an instance
  crans.vrrp.vrrp_instance:
    name: VI_OLD
    state: absent
"""

RETURN = r"""
path:
  description: The file that holds the block.
  returned: always
  type: str
  sample: /etc/vrrpd/conf.d/20-vrrp_instance-VI_ALL.conf
config:
  description:
    - The block as the runtime's schema validated it (dict form, keyword names, C(state) for O(initial_state)).
    - C(auth_pass) is shown as C(********).
  returned: when O(state=present)
  type: dict
  sample: {"state": "MASTER", "priority": 150, "interface": "ens18", "virtual_router_id": 60}
rendered:
  description: The file's content in keepalived syntax, with C(auth_pass) shown as C(********) (the file itself has the password).
  returned: when O(state=present)
  type: str
  sample: "vrrp_instance VI_ALL {\n    state MASTER\n    interface ens18\n}\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crans.vrrp.plugins.module_utils._vrrp_common import (
    common_argument_spec, notify_options, run_block_module, track_option)


def address_options():
    return dict(
        address=dict(type='str', required=True),
        brd=dict(type='str'),
        dev=dict(type='str'),
        scope=dict(type='str'),
        label=dict(type='str'),
        no_track=dict(type='bool'),
        peer=dict(type='str'),
        preferred_lft=dict(type='str'),
        noprefixroute=dict(type='bool'),
        nodad=dict(type='bool'),
        home=dict(type='bool'),
        mngtmpaddr=dict(type='bool'),
    )


def rule_options():
    return dict(
        table=dict(type='raw'), preference=dict(type='int'), iif=dict(type='str'), oif=dict(type='str'),
        fwmark=dict(type='str'), tos=dict(type='int'), goto=dict(type='int'),
        suppress_prefixlength=dict(type='int'), action=dict(type='str'), family=dict(type='str'),
        l3mdev=dict(type='bool'), no_track=dict(type='bool'),
        **{'from': dict(type='str'), 'to': dict(type='str'), 'not': dict(type='bool')},
    )


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        initial_state=dict(type='str', choices=['MASTER', 'BACKUP']),
        interface=dict(type='str'),
        virtual_router_id=dict(type='int'),
        priority=dict(type='int'),
        advert_int=dict(type='float'),
        version=dict(type='int'),
        strict_mode=dict(type='bool'),
        virtual_ipaddress=dict(type='list', elements='dict', options=address_options()),
        virtual_ipaddress_excluded=dict(type='list', elements='dict', options=address_options()),
        virtual_routes=dict(type='list', elements='dict', options=dict(
            to=dict(type='str', required=True),
            src=dict(type='str'),
            via=dict(type='str'),
            dev=dict(type='str'),
            table=dict(type='raw'),
            metric=dict(type='int'),
            scope=dict(type='str'),
            protocol=dict(type='str'),
            type=dict(type='str'),
            no_track=dict(type='bool'),
            onlink=dict(type='bool'),
            mtu=dict(type='int'),
            mtu_lock=dict(type='bool'),
            advmss=dict(type='int'),
            pref=dict(type='str'),
            nexthop=dict(type='list', elements='dict'),
            **{'from': dict(type='str')},
        )),
        virtual_rules=dict(type='list', elements='dict', options=rule_options()),
        no_virtual_ipaddress=dict(type='bool'),
        check_unicast_src=dict(type='bool'),
        unicast_fault_no_peer=dict(type='bool'),
        vmac_xmit_base=dict(type='bool'),
        promote_secondaries=dict(type='bool'),
        kernel_rx_buf_size=dict(type='int'),
        authentication=dict(type='dict', options=dict(
            auth_type=dict(type='str'),
            auth_pass=dict(type='str', no_log=True),
        )),
        nopreempt=dict(type='bool'),
        preempt_delay=dict(type='float'),
        smtp_alert=dict(type='bool'),
        unicast_src_ip=dict(type='str'),
        unicast_peer=dict(type='list', elements='raw'),
        mcast_src_ip=dict(type='str'),
        mcast_dst_ip=dict(type='str'),
        garp_master_delay=dict(type='float'),
        garp_master_repeat=dict(type='int'),
        garp_master_refresh=dict(type='float'),
        garp_master_refresh_repeat=dict(type='int'),
        garp_lower_prio_delay=dict(type='float'),
        garp_lower_prio_repeat=dict(type='int'),
        accept=dict(type='bool'),
        track_interface=track_option(),
        track_script=track_option(),
        track_file=track_option(),
        track_process=track_option(),
        dont_track_primary=dict(type='bool'),
        use_vmac=dict(type='raw'),
        lower_prio_no_advert=dict(type='bool'),
        higher_prio_send_advert=dict(type='bool'),
        owner_ignore_adverts=dict(type='bool'),
        skip_check_adv_addr=dict(type='bool'),
        v3_checksum_as_v2=dict(type='bool'),
        down_timer_adverts=dict(type='int'),
        track_src_ip=dict(type='bool'),
    )
    spec.update(notify_options())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_block_module(module, 'vrrp_instance', 'crans.vrrp.vrrp_instance')


if __name__ == '__main__':
    main()
