"""Row ops of the clean, quality, validate, split and export stages; ftdata.catalog registers them."""
