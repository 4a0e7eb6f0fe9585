"""The start-up benchmark: the app's page against a bare Pyodide + PyJWT page."""
