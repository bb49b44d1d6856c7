"""The operator dashboard served by `footfall serve` at `/` (server-rendered HTML,
server-side SVG charts, one small script for live values; no CDN, no network)."""
