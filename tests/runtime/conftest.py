"""Runtime tests: stdlib-only modules, exercised with real files, processes and sockets."""
