"""The routing index: mirror wheels plus upstream files for supported packages, else 301."""
