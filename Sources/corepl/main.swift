// corepl: the thin executable around the Repl library.
import Repl

print("""
corepl \(Corepl.version) — a REPL for a cooperative event loop.
usage: corepl [--help]
""")
