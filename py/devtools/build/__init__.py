"""The site build: vendoring, bytecode zips, Content-Security-Policy, start-up hints."""
