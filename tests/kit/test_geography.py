from __future__ import annotations

import pytest

from carnet.kit.errors import Invalid
from carnet.kit.geography import departement_of_postcode, departements


@pytest.mark.parametrize(
    ("postcode", "departement", "region"),
    [
        ("75011", "75", "11"),
        ("44000", "44", "52"),
        ("01000", "01", "84"),
        ("20000", "2A", "94"),  # Ajaccio
        ("20137", "2A", "94"),  # Porto-Vecchio
        ("20200", "2B", "94"),  # Bastia
        ("20600", "2B", "94"),
        ("97110", "971", "01"),
        ("97400", "974", "04"),
        ("97600", "976", "06"),
        ("13 001", "13", "93"),
    ],
)
def test_postcode_gives_departement_and_region(postcode: str, departement: str, region: str) -> None:
    found = departement_of_postcode(postcode)
    assert (found.code, found.region) == (departement, region)


@pytest.mark.parametrize("postcode", ["", "7501", "750011", "ABCDE", "00100", "20900", "96000", "97500", "98000"])
def test_unknown_or_malformed_postcode_is_refused(postcode: str) -> None:
    with pytest.raises(Invalid):
        departement_of_postcode(postcode)


def test_the_table_covers_101_departements_in_18_regions() -> None:
    table = departements()
    assert len(table) == 101
    assert len({d.region for d in table.values()}) == 18
