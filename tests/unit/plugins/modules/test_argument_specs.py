# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each block module takes exactly the keywords of the runtime's schema for its block.

The schema (``vrrpd.config.schema``) is the single definition of every keyword; a keyword added
there and not to the module (or the reverse) would make an option impossible to set, or one that
the schema then rejects. Sub-blocks (``authentication``) are compared too.
"""

from __future__ import annotations

import pytest

from ansible_collections.crans.vrrp.plugins.module_utils import _vrrp_common as common
from ansible_collections.crans.vrrp.plugins.modules import vrrp_global, vrrp_instance, vrrp_script, vrrp_sync_group

from vrrpd.config import schema
from vrrpd.config.kinds import SubBlock

#: options every block module has that are not keywords: where and whether to write the file
NOT_KEYWORDS = set(common.common_argument_spec())

MODULES = [
    (vrrp_global, 'global_defs'),
    (vrrp_script, 'vrrp_script'),
    (vrrp_instance, 'vrrp_instance'),
    (vrrp_sync_group, 'vrrp_sync_group'),
]


def keyword_names(fields):
    return dict((field.name, field) for field in fields)


def option_keys(spec):
    return set(common.OPTION_TO_KEY.get(option, option) for option in spec)


@pytest.mark.parametrize('module, block', MODULES, ids=[block for _module, block in MODULES])
def test_module_options_are_the_schema_keywords(module, block):
    top = schema.TOP_BLOCKS[block]
    spec = dict(module.argument_spec())
    for option in NOT_KEYWORDS:
        assert option in spec, option
        del spec[option]
    if top.named:
        assert spec.pop('name').get('required'), 'a named block needs its name'
    fields = keyword_names(top.fields)
    assert option_keys(spec) == set(fields), (
        'only in the module: %s; only in the schema: %s'
        % (sorted(option_keys(spec) - set(fields)), sorted(set(fields) - option_keys(spec))))
    for option, entry in spec.items():
        field = fields[common.OPTION_TO_KEY.get(option, option)]
        if isinstance(field.kind, SubBlock):
            assert entry.get('type') == 'dict', option
            assert set(entry.get('options') or {}) == set(keyword_names(field.kind.fields)), option
