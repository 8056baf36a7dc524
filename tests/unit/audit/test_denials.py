"""What a refused request's path names (pure)."""

from __future__ import annotations

from uuid import uuid4

from colloque.audit.denials import tried_in_path
from colloque.audit.objects import ObjectKind


def test_ids_of_known_parameters_are_named_in_the_paths_order() -> None:
    practice, patient, document = uuid4(), uuid4(), uuid4()
    tried = tried_in_path(
        {"practice_id": str(practice), "patient_id": patient, "document_id": str(document)}
    )
    assert tried.objects == (
        (ObjectKind.PRACTICE, practice),
        (ObjectKind.PATIENT, patient),
        (ObjectKind.ITEM, document),
    )
    assert tried.practice_id == practice
    assert tried.main == ("item", document)


def test_unknown_parameters_and_values_that_are_not_ids_name_nothing() -> None:
    tried = tried_in_path({"reference": "ABCDEFGH", "appointment_id": "not-a-uuid"})
    assert tried.objects == ()
    assert tried.practice_id is None
    assert tried.main == ("request", None)
