#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_global
short_description: Manage the C(global_defs) block of the vrrpd configuration
version_added: 0.1.0
description:
  - Writes the C(global_defs { ... }) block, in keepalived syntax, to C(00-global_defs.conf) under O(config_dir),
    or removes it. The main file itself is not managed (see O(main_config)).
  - Options are named after keepalived's keywords and take the runtime's dict form of them; everything the
    runtime reads in C(global_defs) can be set. LVS, checker, SNMP and BFD settings are not VRRP's and are not
    read by the runtime.
author:
  - Crans (@crans)
extends_documentation_fragment:
  - crans.vrrp._attributes
  - crans.vrrp._block
options:
  router_id:
    description: Name of this router in mails and logs (default the host name).
    type: str
  notification_email:
    description: Where state change mails go.
    type: list
    elements: str
  notification_email_from:
    description: Sender address of the mails.
    type: str
  smtp_server:
    description: SMTP server of the mails.
    type: dict
    suboptions:
      host:
        description: Server name or address.
        type: str
        required: true
      port:
        description: Server port (default 25).
        type: int
  smtp_helo_name:
    description: Name used in HELO (default the host name).
    type: str
  smtp_connect_timeout:
    description: SMTP connection timeout in seconds.
    type: float
  smtp_alert:
    description: Default of C(smtp_alert) for every instance and sync group.
    type: bool
  smtp_alert_vrrp:
    description: Send mails on VRRP state changes (overrides O(smtp_alert) for VRRP).
    type: bool
  no_email_faults:
    description: Do not send mails on FAULT transitions.
    type: bool
  enable_script_security:
    description: Refuse to run scripts as root from paths a non-root user can change.
    type: bool
  script_user:
    description: User (string) or dict with C(user) and C(group) that scripts run as by default.
    type: raw
  vrrp_version:
    description: Default VRRP version, V(2) or V(3).
    type: int
  vrrp_garp_master_delay:
    description: Default of C(garp_master_delay) (seconds).
    type: float
  vrrp_garp_master_repeat:
    description: Default of C(garp_master_repeat).
    type: int
  vrrp_garp_master_refresh:
    description: Default of C(garp_master_refresh) (seconds).
    type: float
  vrrp_garp_master_refresh_repeat:
    description: Default of C(garp_master_refresh_repeat).
    type: int
  vrrp_garp_lower_prio_delay:
    description: Default of C(garp_lower_prio_delay) (seconds; unset, C(vrrp_garp_master_delay)).
    type: float
  vrrp_garp_lower_prio_repeat:
    description: Default of C(garp_lower_prio_repeat) (unset, C(vrrp_garp_master_repeat)).
    type: int
  vrrp_garp_interval:
    description: Delay between gratuitous ARPs on one interface (seconds).
    type: float
  vrrp_gna_interval:
    description: Delay between unsolicited neighbour advertisements on one interface (seconds).
    type: float
  vrrp_mcast_group4:
    description: IPv4 multicast group of the adverts (default 224.0.0.18).
    type: str
  vrrp_mcast_group6:
    description: IPv6 multicast group of the adverts (default ff02::12).
    type: str
  vrrp_strict:
    description: Strict RFC compliance for every instance; several corrections become errors.
    type: bool
  vrrp_skip_check_adv_addr:
    description: Default of C(skip_check_adv_addr).
    type: bool
  v3_checksum_as_v2:
    description: Default of C(v3_checksum_as_v2).
    type: bool
  vrrp_lower_prio_no_advert:
    description: Default of C(lower_prio_no_advert).
    type: bool
  vrrp_higher_prio_send_advert:
    description: Default of C(higher_prio_send_advert).
    type: bool
  vrrp_owner_ignore_adverts:
    description: Default of C(owner_ignore_adverts).
    type: bool
  vrrp_down_timer_adverts:
    description: Default of C(down_timer_adverts) (1 to 100).
    type: int
  notify_fifo:
    description: FIFO that receives every state change; a path, or a dict with C(path), C(user) and C(group).
    type: raw
  notify_fifo_script:
    description: Command reading O(notify_fifo); a string or a dict with C(command), C(user) and C(group).
    type: raw
  vrrp_notify_fifo:
    description: FIFO that receives VRRP state changes; same form as O(notify_fifo).
    type: raw
  vrrp_notify_fifo_script:
    description: Command reading O(vrrp_notify_fifo); same form as O(notify_fifo_script).
    type: raw
  vrrpd_metrics_listen:
    description:
      - vrrpd's own keyword (keepalived ignores it with a warning). Serve Prometheus metrics on
        C(http://ADDR:PORT/metrics), given as C([ADDR]:PORT), for example V(198.51.100.1:9650) or V([::]:9650).
      - Read when the daemon starts (a change needs a restart). Needs C(prometheus_client) on the host.
    type: str
  state_dump_file:
    description:
      - Where SIGUSR1 (and C(vrrpctl dump)) writes keepalived's data dump; default C(keepalived.data) in
        C($TMPDIR) or C(/tmp). An absolute path ending in C(/) is a directory.
    type: str
  stats_dump_file:
    description: Where SIGUSR2 writes the stats dump (default C(keepalived.stats)); same rules as O(state_dump_file).
    type: str
  json_dump_file:
    description: Where the JSON signal writes the JSON dump (default C(keepalived.json)); same rules as O(state_dump_file).
    type: str
  tmp_config_directory:
    description: keepalived's directory for a copy of the configuration; accepted, dumps do not use it (as in keepalived).
    type: str
  dynamic_interfaces:
    description:
      - V(true) lets the configuration name interfaces that do not exist yet (C(dynamic_interfaces)); an
        instance on a missing interface is in FAULT until it appears. Without it vrrpd refuses to start.
      - V(allow_if_changes) also accepts an interface re-created as another type or on another parent.
    type: raw
  vrrp_check_unicast_src:
    description: Drop unicast adverts whose source is not a unicast peer, in every instance (C(vrrp_check_unicast_src)).
    type: bool
  default_interface:
    description: Interface of C(static_ipaddress) entries that name none (keepalived's default V(eth0)).
    type: str
seealso:
  - module: crans.vrrp.vrrp_instance
"""

EXAMPLES = r"""
# global_defs of Crans' router
- name: Global settings
  crans.vrrp.vrrp_global:
    router_id: routeur-sam
    notification_email:
      - root@crans.org
    notification_email_from: keepalived@crans.org
    smtp_server:
      host: smtp.adm.crans.org
  notify: Reload vrrpd

- name: Strict mode and script security
  crans.vrrp.vrrp_global:
    vrrp_strict: true
    enable_script_security: true
    script_user: keepalived_script
"""

RETURN = r"""
path:
  description: The file that holds the block.
  returned: always
  type: str
  sample: /etc/vrrpd/conf.d/00-global_defs.conf
config:
  description: The block as the runtime's schema validated it (dict form).
  returned: when O(state=present)
  type: dict
  sample: {"router_id": "routeur-sam", "smtp_server": {"host": "smtp.adm.crans.org", "port": 25}}
rendered:
  description: The file's content in keepalived syntax.
  returned: when O(state=present)
  type: str
  sample: "global_defs {\n    router_id routeur-sam\n}\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crans.vrrp.plugins.module_utils._vrrp_common import (
    command_option, common_argument_spec, run_block_module)


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        router_id=dict(type='str'),
        notification_email=dict(type='list', elements='str'),
        notification_email_from=dict(type='str'),
        smtp_server=dict(type='dict', options=dict(
            host=dict(type='str', required=True),
            port=dict(type='int'),
        )),
        smtp_helo_name=dict(type='str'),
        smtp_connect_timeout=dict(type='float'),
        smtp_alert=dict(type='bool'),
        smtp_alert_vrrp=dict(type='bool'),
        no_email_faults=dict(type='bool'),
        enable_script_security=dict(type='bool'),
        script_user=dict(type='raw'),
        vrrp_version=dict(type='int'),
        vrrp_garp_master_delay=dict(type='float'),
        vrrp_garp_master_repeat=dict(type='int'),
        vrrp_garp_master_refresh=dict(type='float'),
        vrrp_garp_master_refresh_repeat=dict(type='int'),
        vrrp_garp_lower_prio_delay=dict(type='float'),
        vrrp_garp_lower_prio_repeat=dict(type='int'),
        vrrp_garp_interval=dict(type='float'),
        vrrp_gna_interval=dict(type='float'),
        vrrp_mcast_group4=dict(type='str'),
        vrrp_mcast_group6=dict(type='str'),
        vrrp_strict=dict(type='bool'),
        vrrp_skip_check_adv_addr=dict(type='bool'),
        v3_checksum_as_v2=dict(type='bool'),
        vrrp_lower_prio_no_advert=dict(type='bool'),
        vrrp_higher_prio_send_advert=dict(type='bool'),
        vrrp_owner_ignore_adverts=dict(type='bool'),
        vrrp_down_timer_adverts=dict(type='int'),
        notify_fifo=dict(type='raw'),
        notify_fifo_script=command_option(),
        vrrp_notify_fifo=dict(type='raw'),
        vrrp_notify_fifo_script=command_option(),
        vrrpd_metrics_listen=dict(type='str'),
        state_dump_file=dict(type='str'),
        stats_dump_file=dict(type='str'),
        json_dump_file=dict(type='str'),
        tmp_config_directory=dict(type='str'),
        dynamic_interfaces=dict(type='raw'),
        vrrp_check_unicast_src=dict(type='bool'),
        default_interface=dict(type='str'),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_block_module(module, 'global_defs', 'crans.vrrp.vrrp_global')


if __name__ == '__main__':
    main()
