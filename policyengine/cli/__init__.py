"""The command line: thin wiring from arguments to the library and an exit code."""
