"""The page's runtime boot; shipped, and loaded there as top-level modules, not as boot.*."""
