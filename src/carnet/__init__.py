"""Carnet: a national shared medical record."""
