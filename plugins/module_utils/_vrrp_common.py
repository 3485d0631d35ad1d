# -*- coding: utf-8 -*-
# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private helpers of the crans.vrrp modules (no API promise).

The runtime (``vrrpd``, shipped in the collection's ``runtime/`` and installed
on the managed host) is the single definition of every keyword: this file
validates module options with ``vrrpd.config.schema``, renders them with the
runtime's jinja2 renderer (``vrrpd.config.render``) into keepalived syntax, has ``vrrpd -t`` check the assembled
configuration, then moves the file into place.

One block per file, under ``config_dir`` (default ``/etc/vrrpd/conf.d``)::

    00-global_defs.conf            vrrp_global
    05-track_file-NAME.conf        vrrp_track_file
    06-vrrp_track_process-NAME.conf vrrp_track_process
    10-vrrp_script-NAME.conf       vrrp_script
    20-vrrp_instance-NAME.conf     vrrp_instance
    30-vrrp_sync_group-NAME.conf   vrrp_sync_group

The main file (``main_config``, default ``/etc/vrrpd/vrrpd.conf``) is created
with ``include conf.d/*.conf`` when it does not exist and never edited when it
does.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
import tempfile
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    from vrrpd.config import schema as vrrpd_schema
    from vrrpd.config import kinds as vrrpd_kinds
    from vrrpd.config import render as vrrpd_render
    from vrrpd.config import lexer as vrrpd_lexer
except ImportError:
    HAS_VRRPD = False
    VRRPD_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_VRRPD = True
    VRRPD_IMPORT_ERROR = None

DEFAULT_CONFIG_DIR = '/etc/vrrpd/conf.d'
DEFAULT_MAIN_CONFIG = '/etc/vrrpd/vrrpd.conf'

INSTALL_HINT = (
    'the crans.vrrp runtime (Python package "crans-vrrpd", module "vrrpd") must be installed '
    'for the Python interpreter that runs this module: apply the crans.vrrp.vrrp role, or run '
    '"pip install ANSIBLE_COLLECTIONS_PATH/ansible_collections/crans/vrrp/runtime" on the host'
)

#: kind -> (dict-form key, keepalived block keyword, file name prefix)
BLOCKS = {
    'global_defs': ('global_defs', 'global_defs', '00-global_defs'),
    'track_file': ('track_files', 'track_file', '05-track_file-'),
    'vrrp_track_process': ('track_processes', 'vrrp_track_process', '06-vrrp_track_process-'),
    'vrrp_script': ('vrrp_scripts', 'vrrp_script', '10-vrrp_script-'),
    'vrrp_instance': ('vrrp_instances', 'vrrp_instance', '20-vrrp_instance-'),
    'vrrp_sync_group': ('vrrp_sync_groups', 'vrrp_sync_group', '30-vrrp_sync_group-'),
}

#: module option name -> dict-form key, where they differ (``state`` is present/absent)
OPTION_TO_KEY = {'initial_state': 'state'}
KEY_TO_OPTION = dict((v, k) for k, v in OPTION_TO_KEY.items())

HEADER = '# Managed by Ansible ({module}): local changes will be overwritten.\n'


def render_block(kind, name, data):
    """keepalived text of one validated block (dict form), by the runtime's jinja2 renderer.

    The renderer takes every keyword's syntax from the keyword table the runtime
    parses with, so what a module writes is what vrrpd reads back.
    """
    return vrrpd_render.render_block(vrrpd_schema.TOP_BLOCKS[BLOCKS[kind][1]], name, data)


# --------------------------------------------------------------------------
# Module options <-> dict form

def _strip_none(value):
    """Ansible fills unset sub-options with None; the dict form leaves them out."""
    if isinstance(value, dict):
        return dict((k, _strip_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def dict_form(kind, params):
    """The dict-form body of one block from the module's parameters (unset options left out)."""
    block = vrrpd_schema.TOP_BLOCKS[BLOCKS[kind][1]]
    body = {}
    for f in block.fields:
        option = KEY_TO_OPTION.get(f.name, f.name)
        if params.get(option) is not None:
            body[f.name] = _strip_none(params[option])
    return body


def option_path(path):
    """A dict-form path inside a block -> the module option it comes from (``virtual_ipaddress[0].scope``)."""
    if not path:
        return '<options>'
    first = KEY_TO_OPTION.get(path[0], path[0])
    return vrrpd_schema.dotted((first,) + tuple(path[1:]))


def validate_block(kind, name, body):
    """Validate with the runtime's schema; return (validated body, problems naming module options)."""
    key = BLOCKS[kind][0]
    if kind == 'global_defs':
        data, prefix = {key: body}, (key,)
    else:
        data, prefix = {key: {name: body}}, (key, name)
    try:
        validated = vrrpd_schema.validate(data)
    except vrrpd_schema.ValidationError as exc:
        problems = []
        for problem in exc.problems:
            path = tuple(problem.path)
            inner = path[len(prefix):] if path[:len(prefix)] == prefix else path
            text = problem.message
            full = vrrpd_schema.dotted(path)
            if text.startswith(full + ': '):
                text = text[len(full) + 2:]
            problems.append('%s: %s' % (option_path(inner), text))
        return None, problems
    return (validated[key] if kind == 'global_defs' else validated[key][name]), []


# --------------------------------------------------------------------------
# Files

def block_path(config_dir, kind, name=None):
    prefix = BLOCKS[kind][2]
    return os.path.join(config_dir, prefix + ('.conf' if name is None else name + '.conf'))


def check_name(name):
    """A block name becomes part of a file name, mail subjects and log lines.

    Refuse what would escape config_dir, and control characters (CR, LF,
    NUL...), which would forge lines wherever the name is written.
    """
    if not name or '/' in name or name.startswith('.'):
        return 'name: %r cannot be used in a file name (no "/", no leading ".")' % (name,)
    if any(c < ' ' or c == '\x7f' for c in name):
        return 'name: %r: control characters (CR, LF, NUL, TAB, ESC...) are not allowed' % (name,)
    return None


def default_main_text(main_config, config_dir):
    """The main file the modules create when there is none: one include of config_dir."""
    main_dir = os.path.dirname(os.path.abspath(main_config))
    target = os.path.relpath(os.path.abspath(config_dir), main_dir)
    if target.startswith('..'):
        target = os.path.abspath(config_dir)
    return ('# Managed by Ansible (crans.vrrp): created because it was missing; edit freely.\n'
            'include %s\n' % vrrpd_kinds.quote(os.path.join(target, '*.conf')))


def _read(path):
    try:
        with open(path, 'r', encoding='utf-8') as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def _rewrite_includes(text, main_dir, config_dir, staged_dir):
    """The main file's text for the staging directory, and whether it includes config_dir.

    Include patterns are made absolute (relative ones resolve against the
    main file's directory, as the runtime does); those inside ``config_dir``
    point at its staged copy instead.  Returns (text, patterns into config_dir).
    """
    real_dir = os.path.realpath(config_dir)
    lines, patterns = [], []
    for line in text.split('\n'):
        try:
            words = vrrpd_lexer.split_words(vrrpd_lexer.strip_comment(line).strip())
        except vrrpd_lexer.QuoteError:
            lines.append(line)
            continue
        if len(words) != 2 or words[0] not in vrrpd_lexer.INCLUDE_CHECKS:
            lines.append(line)
            continue
        pattern = words[1] if os.path.isabs(words[1]) else os.path.join(main_dir, words[1])
        if os.path.realpath(os.path.dirname(pattern)) == real_dir:
            patterns.append(os.path.basename(pattern))
            pattern = os.path.join(staged_dir, os.path.basename(pattern))
        lines.append('%s %s' % (words[0], vrrpd_kinds.quote(pattern)))
    return '\n'.join(lines), patterns


def _included(filename, patterns):
    for pattern in patterns:
        for alternative in vrrpd_lexer.expand_braces(pattern):
            if fnmatch.fnmatchcase(filename, alternative):
                return True
    return False


def config_test(module, main_text, config_dir, path, content):
    """Run ``vrrpd -t`` on the assembled configuration with ``content`` (None: removed) at ``path``.

    Nothing on the host changes: main file and config_dir are staged in a
    temporary directory.  Returns (ok, errors, warnings, included), messages
    naming the real files.
    """
    main_config = module.params['main_config']
    stage = tempfile.mkdtemp(prefix='vrrp-check-', dir=module.tmpdir)
    try:
        staged_dir = os.path.join(stage, 'conf.d')
        os.mkdir(staged_dir)
        if os.path.isdir(config_dir):
            for entry in sorted(os.listdir(config_dir)):
                source = os.path.join(config_dir, entry)
                if os.path.isfile(source) and entry != os.path.basename(path):
                    shutil.copy(source, os.path.join(staged_dir, entry))
        if content is not None:
            with open(os.path.join(staged_dir, os.path.basename(path)), 'w', encoding='utf-8') as stream:
                stream.write(content)
        main_dir = os.path.dirname(os.path.abspath(main_config))
        text, patterns = _rewrite_includes(main_text, main_dir, config_dir, staged_dir)
        staged_main = os.path.join(stage, 'main.conf')
        with open(staged_main, 'w', encoding='utf-8') as stream:
            stream.write(text)
        rc, out, err = module.run_command([sys.executable, '-m', 'vrrpd.cli', '-t', '-f', staged_main])
        lines = [line.replace(staged_dir, config_dir).replace(staged_main, main_config)
                 for line in (err + out).splitlines() if line.strip()]
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    # keepalived's -t statuses: 0 fine, 4 corrected, 5 script security: still runs; 3 (or a crash) does not
    ok = rc in (0, 4, 5)
    errors = [line for line in lines if ': warning:' not in line and not line.endswith('configuration OK')]
    ours = [line for line in lines if line.startswith(path + ':') and ': warning:' in line]
    if rc == 0 or ok:
        errors = []
    elif not errors:
        errors = lines or ['vrrpd -t exited with status %d' % rc]
    return ok, errors, ours, _included(os.path.basename(path), patterns)


MASK = '********'


def mask_secrets(text):
    """Rendered text with ``auth_pass ********``: a password is never returned, diffed or logged.

    Line by line, so that it holds whatever quoting or escapes the password
    needed (Ansible's no_log only hides the value as it was given).
    """
    if text is None:
        return text
    out = []
    for line in text.split('\n'):
        stripped = line.lstrip()
        words = stripped.split(None, 1)
        if words and words[0] in vrrpd_schema.SECRET_KEYS:
            line = '%s%s %s' % (line[:len(line) - len(stripped)], words[0], MASK)
        out.append(line)
    return '\n'.join(out)


def mask_config(value):
    """A dict-form value with every secret keyword's value replaced by ``********``."""
    if isinstance(value, dict):
        return dict((k, MASK if k in vrrpd_schema.SECRET_KEYS else mask_config(v)) for k, v in value.items())
    if isinstance(value, list):
        return [mask_config(v) for v in value]
    return value


def _write(module, path, content, new_mode):
    """Write through a temporary file in the same directory, then move it into place.

    A new file gets ``new_mode`` while it is still the private temporary file,
    and a plain rename makes it visible: ``atomic_move`` would first give it
    the umask's mode (world-readable, password included) until a later chmod.
    An existing file goes through ``atomic_move``, which keeps its mode,
    owner and SELinux context.
    """
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as stream:
            stream.write(content)
            os.fchmod(stream.fileno(), new_mode)
        if os.path.exists(path):
            module.atomic_move(tmp, path)
        else:
            os.rename(tmp, path)
            module.set_default_selinux_context(path, False)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_block_module(module, kind, module_name):
    """The whole job of vrrp_global, vrrp_instance, vrrp_script and vrrp_sync_group."""
    if not HAS_VRRPD:
        module.fail_json(msg=missing_required_lib('vrrpd (the crans.vrrp runtime)') + '. Hint: ' + INSTALL_HINT,
                         exception=VRRPD_IMPORT_ERROR)

    params = module.params
    name = params.get('name')
    if kind != 'global_defs':
        problem = check_name(name)
        if problem:
            module.fail_json(msg=problem)
    config_dir = params['config_dir']
    main_config = params['main_config']
    path = block_path(config_dir, kind, name)
    state = params['state']

    result = dict(changed=False, path=path)
    new = None
    if state == 'present':
        body, problems = validate_block(kind, name, dict_form(kind, params))
        if problems:
            module.fail_json(msg='invalid options: ' + '; '.join(problems), problems=problems, **result)
        new = HEADER.format(module=module_name) + render_block(kind, name, body)
        result['config'] = mask_config(body)
        result['rendered'] = mask_secrets(new)

    old = _read(path)
    main_old = _read(main_config)
    main_new = main_old if main_old is not None else default_main_text(main_config, config_dir)
    changed = old != new
    main_changed = main_old is None and state == 'present'

    diffs = []
    if main_changed:
        diffs.append(dict(before='', after=main_new, before_header=main_config, after_header=main_config))
    if changed:
        diffs.append(dict(before=mask_secrets(old or ''), after=mask_secrets(new or ''),
                          before_header=path if old is not None else '/dev/null',
                          after_header=path if new is not None else '/dev/null'))

    if changed or main_changed:
        ok, errors, warnings, included = config_test(module, main_new, config_dir, path, new)
        if not ok:
            module.fail_json(msg='vrrpd -t rejected the configuration with this change; nothing was written: '
                             + ' | '.join(errors), errors=errors, **result)
        for warning in warnings:
            module.warn(warning)
        if state == 'present' and not included:
            module.warn('%s does not include %s: the daemon will not read it' % (main_config, path))
        if not module.check_mode:
            if main_changed:
                if not os.path.isdir(os.path.dirname(os.path.abspath(main_config))):
                    os.makedirs(os.path.dirname(os.path.abspath(main_config)), 0o755)
                _write(module, main_config, main_new, 0o644)
            if new is None:
                os.unlink(path)
            else:
                if not os.path.isdir(config_dir):
                    os.makedirs(config_dir, 0o755)
                _write(module, path, new, 0o600)
        result['changed'] = True

    if module._diff:
        result['diff'] = diffs if len(diffs) != 1 else diffs[0]
    module.exit_json(**result)


# --------------------------------------------------------------------------
# Arguments shared by the four block modules

def common_argument_spec():
    return dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        config_dir=dict(type='path', default=DEFAULT_CONFIG_DIR),
        main_config=dict(type='path', default=DEFAULT_MAIN_CONFIG),
    )


def command_option():
    """``notify CMD [USER [GROUP]]`` and the like: a string, or a dict command/user/group."""
    return dict(type='raw')


def notify_options():
    """The five notify scripts of an instance or a sync group."""
    return dict((key, command_option()) for key in
                ('notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop'))


def track_option():
    return dict(type='list', elements='raw')
