"""Who is asking, proven: patients, professionals, their cards."""
