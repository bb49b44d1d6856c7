"""The `footfall` command line (README, The command line)."""
