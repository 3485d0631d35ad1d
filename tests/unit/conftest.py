# Copyright (c) 2025, Crans <root@crans.org>
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules' unit tests exercise the runtime shipped in this collection (``runtime/``).

Not whichever ``vrrpd`` the Python environment has installed, which may be an
editable install of another checkout: the import below and the ``vrrpd -t``
the modules run (a subprocess, hence PYTHONPATH) both take this copy first.
"""

from __future__ import annotations

import os
import sys

RUNTIME = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'runtime')

sys.path.insert(0, RUNTIME)
os.environ['PYTHONPATH'] = os.pathsep.join([RUNTIME] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])
