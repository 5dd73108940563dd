"""The one place livyd's version is written down."""

__version__ = "0.1.0"

#: MAJOR.MINOR of the daemon protocol (livyd/protocol). A client refuses a daemon whose major
#: differs from its own; a minor adds only optional fields and new methods.
PROTOCOL_VERSION = "1.3"
