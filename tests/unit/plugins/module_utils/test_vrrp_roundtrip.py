# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Round trip between the modules and the runtime, on generated inputs (hypothesis).

Valid module inputs -> Ansible's argument validation -> dict form -> runtime
schema -> jinja2 template -> keepalived text; the runtime's parser must read
that text back into the same model as the runtime makes from the dict form
directly, and the template must write exactly what the runtime's own renderer
writes.  Invalid inputs must make the module fail with a message naming the
option (with its path for sub-options) and the value.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common import warnings as common_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.crans.vrrp.plugins.module_utils import _vrrp_common as common
from ansible_collections.crans.vrrp.plugins.modules import vrrp_global, vrrp_instance, vrrp_script, vrrp_sync_group

from vrrpd.config import load_dict, load_text
from vrrpd.config.render import render_config

MODULES = {'global_defs': vrrp_global, 'vrrp_script': vrrp_script,
           'vrrp_instance': vrrp_instance, 'vrrp_sync_group': vrrp_sync_group}

# -- strategies: what an operator may write in YAML -----------------------------------------------

WORD = st.text(alphabet='abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.', min_size=1, max_size=10)
IFNAME = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789', min_size=1, max_size=15)
# words that need quoting: blanks, quotes, comment and brace characters, backslashes, non-ASCII
TRICKY = st.text(alphabet='ab/z09 _-."\'#!{}\\$@~é', min_size=1, max_size=16).filter(lambda s: s.strip() == s)
NAME = st.one_of(WORD, TRICKY.filter(lambda s: '/' not in s and not s.startswith('.')))
HOST = st.integers(1, 254)
V4 = HOST.map(lambda n: '198.51.100.%d' % n)
SECONDS = st.sampled_from([0.5, 1, 1.5, 2, 3, 10.25])
COUNT = st.integers(0, 20)
BOOL = st.booleans()
USER = st.sampled_from(['root', 'nobody'])
# a command line the runtime can split into argv (keepalived's rules): words, maybe a quoted argument
CMD_WORD = st.text(alphabet='ab/z09_-.#!{}$@~é', min_size=1, max_size=8)
CMD = st.builds(lambda words, quoted: ' '.join(words + quoted), st.lists(CMD_WORD, min_size=1, max_size=3),
                st.lists(st.sampled_from(["'a b'", '"x y"', "'#!{}'"]), max_size=1))
COMMAND = st.one_of(CMD, st.builds(dict, command=CMD, user=USER),
                    st.builds(dict, command=CMD, user=USER, group=st.sampled_from(['root', 'nogroup'])))


def maybe(strategy):
    return st.one_of(st.none(), strategy)


def optional_dict(**fields):
    """A dict where every field may be missing (the module's unset options)."""
    return st.fixed_dictionaries({}, optional=fields)


ADDRESS = st.one_of(
    st.builds(dict, address=V4),
    st.builds(lambda a, p, extra: dict(extra, address='%s/%d' % (a, p)), V4, st.integers(8, 32), optional_dict(
        brd=st.sampled_from(['+', '-', '198.51.100.255']), dev=IFNAME,
        scope=st.sampled_from(['global', 'site', 'link', 'host', 'nowhere']), label=WORD, no_track=BOOL)),
)
ROUTE = st.builds(lambda to, extra: dict(extra, to=to), st.sampled_from(['default', '203.0.113.0/24', '198.51.100.7']),
                  optional_dict(src=V4, via=V4, dev=IFNAME, table=st.one_of(st.integers(1, 250), st.sampled_from(['main', 'local', 'default'])),
                                metric=st.integers(0, 1000), scope=st.sampled_from(['link', 'global']),
                                protocol=st.sampled_from(['static', 'boot', 'keepalived', 42]), no_track=BOOL, onlink=BOOL))


def tracker(names, reverse):
    item = st.builds(lambda n, extra: dict(extra, name=n), names,
                     optional_dict(weight=st.integers(-253, 253), **({'reverse': BOOL} if reverse else {})))
    return st.lists(st.one_of(names, item), max_size=3)


GLOBAL = optional_dict(
    router_id=TRICKY, notification_email=st.lists(WORD, max_size=3), notification_email_from=WORD,
    smtp_server=st.builds(lambda h, extra: dict(extra, host=h), WORD, optional_dict(port=st.integers(1, 65535))),
    smtp_helo_name=WORD, smtp_connect_timeout=SECONDS, smtp_alert=BOOL, smtp_alert_vrrp=BOOL,
    no_email_faults=BOOL, enable_script_security=BOOL,
    script_user=st.one_of(USER, st.builds(dict, user=USER, group=st.sampled_from(['root', 'nogroup']))),
    vrrp_version=st.sampled_from([2, 3]), vrrp_garp_master_delay=SECONDS, vrrp_garp_master_repeat=COUNT,
    vrrp_garp_master_refresh=SECONDS, vrrp_garp_master_refresh_repeat=COUNT, vrrp_garp_interval=SECONDS,
    vrrp_gna_interval=SECONDS, vrrp_mcast_group4=st.sampled_from(['224.0.0.18', '239.1.2.3']),
    vrrp_mcast_group6=st.sampled_from(['ff02::12', 'ff02::1234']), vrrp_skip_check_adv_addr=BOOL,
    v3_checksum_as_v2=BOOL, vrrp_lower_prio_no_advert=BOOL, vrrp_higher_prio_send_advert=BOOL,
    vrrp_owner_ignore_adverts=BOOL, vrrp_down_timer_adverts=st.integers(1, 100),
    notify_fifo=st.one_of(TRICKY, st.builds(dict, path=TRICKY, user=USER)), notify_fifo_script=COMMAND,
    vrrp_notify_fifo=TRICKY, vrrp_notify_fifo_script=COMMAND,
)

SCRIPT = st.builds(lambda script, extra: dict(extra, script=script), CMD, optional_dict(
    interval=SECONDS, timeout=SECONDS,
    weight=st.one_of(st.integers(-253, 253), st.builds(dict, value=st.integers(-253, 253), reverse=BOOL)),
    rise=st.integers(1, 10), fall=st.integers(1, 10),
    user=st.one_of(USER, st.builds(dict, user=USER, group=st.sampled_from(['root', 'nogroup']))), init_fail=BOOL))


def instance(script_names):
    return st.builds(
        lambda vips, ifname, extra: dict(extra, virtual_ipaddress=vips, interface=ifname),
        st.lists(ADDRESS, min_size=1, max_size=3), IFNAME,
        optional_dict(
            initial_state=st.sampled_from(['MASTER', 'BACKUP']), priority=st.integers(1, 255),
            advert_int=SECONDS, version=st.sampled_from([2, 3]), strict_mode=st.just(False),
            virtual_ipaddress_excluded=st.lists(ADDRESS, max_size=2), virtual_routes=st.lists(ROUTE, max_size=2),
            authentication=st.builds(dict, auth_type=st.sampled_from(['PASS', 'AH']), auth_pass=WORD),
            nopreempt=BOOL, preempt_delay=st.sampled_from([0, 1, 30.5]),
            notify=COMMAND, notify_master=COMMAND, notify_backup=COMMAND, notify_fault=COMMAND, notify_stop=COMMAND,
            smtp_alert=BOOL, unicast_src_ip=V4, unicast_peer=st.lists(V4, max_size=2), mcast_src_ip=V4,
            mcast_dst_ip=st.sampled_from(['224.0.0.18', '239.0.0.1']), garp_master_delay=SECONDS,
            garp_master_repeat=COUNT, garp_master_refresh=SECONDS, garp_master_refresh_repeat=COUNT, accept=BOOL,
            track_interface=tracker(IFNAME, True), track_script=tracker(script_names, True) if script_names is not None else st.just([]),
            dont_track_primary=BOOL, use_vmac=st.one_of(BOOL, IFNAME), lower_prio_no_advert=BOOL,
            higher_prio_send_advert=BOOL, owner_ignore_adverts=BOOL, skip_check_adv_addr=BOOL, v3_checksum_as_v2=BOOL,
            down_timer_adverts=st.integers(1, 100)))


@st.composite
def configurations(draw):
    """A whole configuration as module calls: [(kind, name, module params)]."""
    calls = []
    if draw(BOOL):
        calls.append(('global_defs', None, draw(GLOBAL)))
    script_names = draw(st.lists(NAME, max_size=2, unique=True))
    for name in script_names:
        calls.append(('vrrp_script', name, draw(SCRIPT)))
    names = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    vrids = draw(st.lists(st.integers(1, 255), min_size=len(names), max_size=len(names), unique=True))
    for name, vrid in zip(names, vrids):
        params = draw(instance(st.sampled_from(script_names) if script_names else None))
        params['virtual_router_id'] = vrid
        calls.append(('vrrp_instance', name, params))
    if draw(BOOL):
        members = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        group = dict(group=members)
        group.update(draw(optional_dict(notify=COMMAND, smtp_alert=BOOL, track_interface=tracker(IFNAME, True),
                                        sync_group_tracking_weight=BOOL)))
        calls.append(('vrrp_sync_group', draw(NAME), group))
    return calls


# -- the property ---------------------------------------------------------------------------------

#: ``$NAME`` parameters the strategies above can spell ($a, ${ab}, $z0...), defined ahead of the blocks
DEFINITIONS = '$a=EXPANDED\n$b=two words\n$z=z\n$ab=AB\n$_=U\n$z0=\n$A=A\n'


def module_params(kind, name, params):
    """The parameters the module sees after Ansible's own argument validation."""
    args = dict(params)
    if name is not None:
        args['name'] = name
    result = ArgumentSpecValidator(MODULES[kind].argument_spec()).validate(args)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def without_route_tokens(config):
    """Routes read from text keep their words in ``tokens``; the dict form has none to keep."""
    if config is None:
        return None
    instances = dict((name, dataclasses.replace(inst, virtual_routes=tuple(
        dataclasses.replace(r, tokens=()) for r in inst.virtual_routes))) for name, inst in config.instances.items())
    return dataclasses.replace(config, instances=instances)


def messages(result):
    return sorted(d.message for d in result.diagnostics)


@settings(max_examples=150, deadline=None)
@given(configurations())
def test_rendered_text_reads_back_as_the_same_model(calls):
    data, texts = {}, []
    for kind, name, params in calls:
        body, problems = common.validate_block(kind, name, common.dict_form(kind, module_params(kind, name, params)))
        assert problems == [], problems
        key = common.BLOCKS[kind][0]
        single = {key: body} if kind == 'global_defs' else {key: {name: body}}
        text = common.render_block(kind, name, body)
        assert text == render_config(single)           # the jinja2 template writes what the runtime writes
        texts.append(text)
        if kind == 'global_defs':
            data[key] = body
        else:
            data.setdefault(key, {})[name] = body
    # the operator's main file may define parameters: what the modules wrote must not expand
    from_text = load_text(DEFINITIONS + '\n'.join(texts), 'generated.conf', hostname='host.example')
    from_dict = load_dict(data, hostname='host.example')
    assert without_route_tokens(from_text.config) == without_route_tokens(from_dict.config)
    assert messages(from_text) == messages(from_dict)
    event('valid' if from_dict.config is not None else 'refused by the runtime (same errors both ways)')


# -- invalid values are refused, naming the option ----------------------------------------------

BASE = dict(name='VI_1', interface='eth0', virtual_router_id=51, virtual_ipaddress=[dict(address='198.51.100.1/24')])

BAD = st.one_of(
    st.tuples(st.just('priority'), st.sampled_from([0, 256, -5, 1000])),
    st.tuples(st.just('virtual_router_id'), st.sampled_from([0, 256, 99999])),
    st.tuples(st.just('advert_int'), st.sampled_from([0, -1, -0.5, 1e-9, 0.004, 0.5, 256])),  # v2 by default
    st.tuples(st.just('version'), st.sampled_from([1, 4])),
    st.tuples(st.just('down_timer_adverts'), st.sampled_from([0, 101])),
    st.tuples(st.just('preempt_delay'), st.sampled_from([1001, -2])),
    st.tuples(st.just('garp_master_repeat'), st.just(-1)),
    st.tuples(st.just('unicast_src_ip'), st.sampled_from(['nope', '300.1.1.1'])),
    st.tuples(st.just('mcast_dst_ip'), st.sampled_from(['not-an-ip', '1.2.3'])),
    st.tuples(st.just('virtual_ipaddress[0].address'), st.sampled_from(['nope', '198.51.100.1/99'])),
    st.tuples(st.just('virtual_ipaddress[0].scope'), st.sampled_from(['galaxy', 'GLOBAL'])),
    st.tuples(st.just('virtual_ipaddress[0].brd'), st.sampled_from(['x', '1.2.3.4.5'])),
    st.tuples(st.just('virtual_routes[0].to'), st.sampled_from(['nowhere', '198.51.100.0/40'])),
    st.tuples(st.just('track_interface[0].weight'), st.sampled_from([254, -300])),
    st.tuples(st.just('authentication.auth_type'), st.sampled_from(['NONE', 'pass'])),
    st.tuples(st.just('unicast_peer[0]'), st.sampled_from(['peer', '::g'])),
)


def with_value(params, option, value):
    """Put ``value`` at ``option`` (a dotted/indexed option path) into a copy of ``params``."""
    params = json.loads(json.dumps(params))
    if option.startswith('virtual_ipaddress[0].'):
        params['virtual_ipaddress'][0][option.split('.', 1)[1]] = value
    elif option == 'virtual_routes[0].to':
        params['virtual_routes'] = [dict(to=value)]
    elif option == 'track_interface[0].weight':
        params['track_interface'] = [dict(name='eth1', weight=value)]
    elif option == 'authentication.auth_type':
        params['authentication'] = dict(auth_type=value, auth_pass='secret12')
    elif option == 'unicast_peer[0]':
        params['unicast_peer'] = [value]
    else:
        params[option] = value
    return params


@pytest.fixture
def run_instance(capsys, tmp_path):
    def run(params):
        args = dict(params, config_dir=str(tmp_path / 'conf.d'), main_config=str(tmp_path / 'vrrpd.conf'),
                    _ansible_remote_tmp=str(tmp_path))
        common_warnings._global_warnings.clear()
        capsys.readouterr()
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                vrrp_instance.main()
        return json.loads(capsys.readouterr().out)
    return run


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(BAD)
def test_invalid_value_fails_naming_the_option(run_instance, bad):
    option, value = bad
    result = run_instance(with_value(BASE, option, value))
    assert result.get('failed') is True, result
    assert option in result['msg'], result['msg']
    assert str(value) in result['msg'], result['msg']
    assert 'changed' not in result or result['changed'] is False


def test_valid_base_passes(run_instance):
    assert run_instance(BASE)['changed'] is True


def test_words_spelled_like_include_are_quoted():
    """Found by the round trip: a group member named ``include`` was read back as an include line."""
    body, problems = common.validate_block('vrrp_sync_group', 'VG', {'group': ['include', 'includea']})
    assert problems == []
    text = common.render_block('vrrp_sync_group', 'VG', body)
    assert '        "include"\n' in text and '        "includea"\n' in text
    assert load_text(text).data['vrrp_sync_groups']['VG']['group'] == ['include', 'includea']
