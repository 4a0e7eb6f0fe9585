"""Development tools that never ship: the build, the local servers, the benchmark."""
