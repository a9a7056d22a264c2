"""Text helpers that know nothing of records or stages (character classes, language,
readability, the mojibake pre-filter, regex floors): ops, augmentation and reports share them."""
