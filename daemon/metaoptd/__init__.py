"""metaoptd: the per-node service that runs trials on this machine's slots."""
