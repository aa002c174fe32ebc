"""Technical pieces with no domain rules: database, errors, crypto, identifiers, clock."""
