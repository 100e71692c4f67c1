"""Data in: a wave folder (wave.yml and its files) becomes a validated :class:`~analysis.ingest.wave.Wave`;
the provinces table, the codebook and the official statistics are read here."""
