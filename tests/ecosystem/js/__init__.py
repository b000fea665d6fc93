"""The JavaScript ecosystem tests' own files: npm pins, graphs, the Node tests and the page."""
