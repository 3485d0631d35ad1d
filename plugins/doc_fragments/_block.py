# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Options, requirements and notes shared by vrrp_global, vrrp_instance, vrrp_script and vrrp_sync_group.
    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) writes the block's file with exactly the options given (options left out are left out
        of the file, so the runtime's defaults apply).
      - V(absent) removes the block's file.
    type: str
    choices: [present, absent]
    default: present
  config_dir:
    description:
      - Directory of the per-block files. Each module manages one file in it, named after the block
        (C(00-global_defs.conf), C(10-vrrp_script-NAME.conf), C(20-vrrp_instance-NAME.conf),
        C(30-vrrp_sync_group-NAME.conf)), so the daemon reads globals, scripts, instances then groups.
    type: path
    default: /etc/vrrpd/conf.d
  main_config:
    description:
      - The runtime's main configuration file, the one C(vrrpd -f) reads.
      - When it does not exist, it is created with a single C(include) line for O(config_dir)
        (C(include conf.d/*.conf) with the defaults). An existing file is never edited; the module warns
        when it does not include the managed file.
      - The assembled configuration (this file, its includes, and the candidate file in place of the
        current one) is checked with C(vrrpd -t) before anything is written.
    type: path
    default: /etc/vrrpd/vrrpd.conf
requirements:
  - The crans.vrrp runtime (Python package C(crans-vrrpd), module C(vrrpd)), which ships in the collection's
    C(runtime/) directory, installed for the Python interpreter that runs the module on the managed host
    (the crans.vrrp.vrrp role installs it).
  - jinja2 on the managed host (a dependency of the runtime).
notes:
  - A block file the module creates is owned by the user running the module and has mode C(0600), since an instance
    may hold a password; an existing file keeps its owner and mode. A main file the module creates has mode C(0644).
  - Options are validated by the runtime's own schema (C(vrrpd.config.schema)), the same code the daemon uses
    to read its configuration; an error names the option and the value.
  - The module never reloads or restarts the daemon; notify a handler on C(changed) (for example
    C(vrrpctl reload) or C(systemctl reload vrrpd)).
  - Blocks refer to each other (instances to scripts, sync groups to instances), and the whole
    configuration must pass C(vrrpd -t) after every change. Create scripts before the instances that
    track them and instances before their sync groups; remove them in the reverse order.
  - Numbers may be given as YAML numbers or strings; timers accept decimals (seconds).
"""
