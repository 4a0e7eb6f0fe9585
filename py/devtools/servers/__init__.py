"""The local servers and the run command: site, OpenID provider, protected API."""
