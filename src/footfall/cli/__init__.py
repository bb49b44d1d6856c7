"""The `footfall` command line (SPEC §8)."""
