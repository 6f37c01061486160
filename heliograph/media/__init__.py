"""Files and media: storage, processing, previews."""
