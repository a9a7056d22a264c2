"""Text helpers that know nothing of records or stages (character classes, language,
readability): ops, augmentation and reports share them."""
