"""pip and uv configuration for a wheel mirror: config files, pip.conf, uv TOML, hashes."""
