"""keepalived.conf reading: lexer, parser, schema and typed model.

Typical use::

    from vrrpd.config import load
    result = load("/etc/keepalived/keepalived.conf")
    for d in result.diagnostics:
        print(d)                      # FILE:LINE: message
    if result.ok:
        run(result.config)

Module map: ``lexer`` (lines, quotes, includes) -> ``parser`` (statements,
dict form) -> ``schema`` (keyword tables, voluptuous, ``validate``) ->
``complete`` (keepalived's completion rules) -> ``model`` (frozen
dataclasses).  ``checks`` looks at the host's script files, ``dump`` writes
the ``-d`` text and ``render`` writes dict form back as keepalived.conf.

Imports run one way: lexer -> statements -> kinds -> items -> schema ->
parser -> loader.  ``Statement`` has its own leaf module, and ``SubBlock``
reads a nested block with the walker the parse context carries
(``ParseContext.walk_block``), so no kind imports the parser.
"""

from .diagnostics import Diagnostic, Reporter, config_test_status
from .loader import LoadResult, load, load_dict, load_text
from .model import (Auth, Config, Fifo, GlobalDefs, Instance, NotifyScript, SmtpServer, SyncGroup,
                    TrackInterface, TrackScript, VirtualAddress, VirtualRoute, VrrpScript)
from .schema import (CONFIG_SCHEMA, GLOBAL_DEFS_SCHEMA, INSTANCE_SCHEMA, SCRIPT_SCHEMA,
                     SYNC_GROUP_SCHEMA, Problem, ValidationError, validate)

__all__ = [
    "Auth", "CONFIG_SCHEMA", "Config", "Diagnostic", "Fifo", "GLOBAL_DEFS_SCHEMA", "GlobalDefs",
    "INSTANCE_SCHEMA", "Instance", "LoadResult", "NotifyScript", "Problem", "Reporter",
    "SCRIPT_SCHEMA", "SYNC_GROUP_SCHEMA", "SmtpServer", "SyncGroup", "TrackInterface", "config_test_status",
    "TrackScript", "ValidationError", "VirtualAddress", "VirtualRoute", "VrrpScript", "load",
    "load_dict", "load_text", "validate",
]
