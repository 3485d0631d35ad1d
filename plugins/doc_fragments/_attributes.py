# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Attributes of the modules that write one configuration block.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    description:
      - Can run in check mode and return changed status prediction without modifying the target.
      - In check mode the candidate file is still checked with C(vrrpd -t) in a temporary directory,
        so a configuration the runtime would refuse fails in check mode too.
  diff_mode:
    support: full
    description:
      - Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
      - The diff shows the rendered keepalived lines; C(auth_pass) values are shown as C(********).
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
"""

    # Attributes of vrrp_facts.
    FACTS = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying the target.
  diff_mode:
    support: N/A
    description: Gathering facts changes nothing, so there is no diff.
  facts:
    support: full
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
"""
