"""The services' refusals the portal shows, as the catalogue's source strings, so each reads in French too.

The services speak English sentences; these are the same sentences, marked for extraction. A test makes each
refusal happen and checks its sentence is here (tests/portal/test_service_messages.py), so a reworded
service message cannot slip through untranslated. A refusal not listed falls back to a sentence by status.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a string for the catalogue where it is defined; it is translated where it is shown."""
    return message


SERVICE_MESSAGES = (
    # identity/accounts.py
    N_("These details do not match: check them, or ask for a new activation code at a desk or a pharmacy."),
    N_("The login or the password is wrong."),
    N_("A login has 3 to 254 characters and no spaces (a name, or your e-mail address)."),
    N_("This login looks like an e-mail address but is not a valid one."),
    N_("This login is taken: choose another."),
    N_("Give an e-mail address to receive your sign-in codes."),
    N_("Give a mobile number to receive your sign-in codes."),
    N_("Give your login and your password."),
    N_("This code is wrong or has expired."),
    N_("This sign-in has expired: start again with your password."),
    N_("Your session has ended: sign in again."),
    N_("No address is on file for your second factor: ask a desk for a new code."),
    # identity/passwords.py
    N_("Choose a password of at least 12 characters."),
    N_("A password has at most 128 characters."),
    N_("This password repeats too few characters: mix more of them."),
    N_("The password must not contain your login, name, birth date or social security number."),
    N_("Put some letters in the password, not only digits and symbols."),
    N_("This password is among the first ones attackers try: choose another."),
    # access/service.py
    N_("You blocked this professional: unblock them first."),
    # notify/service.py
    N_("The e-mail address is not valid."),
    N_("A mobile number is written in international form, e.g. +33612345678."),
    # kit/identifiers.py (the first of its INS messages counts characters: see BY_CODE)
    N_(
        "The social security number (NIR) is malformed: it starts with the sex digit, then year and "
        "month of birth, then the département (2A or 2B for Corsica)."
    ),
    N_("The INS key does not match the social security number: check each digit."),
    # identity/staff.py, identity/directory.py
    N_("This RPPS number is not a pharmacist's in the directory."),
    N_("Enter the pharmacy's FINESS number."),
    N_("No professional with this RPPS number is in the directory."),
    N_("A staff id has 1 to 32 letters or digits."),
    N_("An office code has 1 to 32 letters or digits."),
    # portal/web.py
    N_("This form has expired or did not come from Carnet."),
)

# Refusals whose sentence carries a value (a length, a count): shown by their code.
BY_CODE = {
    "invalid-ins": N_("A social security number has 13 characters, followed by its 2-digit key if you have it."),
    "invalid-finess": N_("A FINESS number has 9 digits and a check digit: check each digit."),
    "too-large": N_("This file is too large for Carnet: choose a smaller one."),
}
