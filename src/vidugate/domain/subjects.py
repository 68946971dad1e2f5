"""reference2video's subject form: several subjects, each with its own reference images,
named in the prompt as @id. The images of all subjects are the request's images, in
subjects' order, so they go through the one intake and are stored and deleted like any
other; a subject only says how many of them are its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from vidugate.domain.models import Mode, ModelSpec
from vidugate.errors import InvalidRequestError

# Vidu's subject form: 1-7 subjects of 1-3 images each, at most 7 images in all (fewer
# where the model takes fewer: vidu2.0 3).
MAX_SUBJECTS = 7
MAX_SUBJECT_IMAGES = 3
# An id is referenced in the prompt as @id: a short word.
MAX_SUBJECT_ID_CHARS = 64
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Subject:
    """One subject: its id, how many of the request's images (the next ones, in order)
    are its own, and its voice."""

    id: str
    image_count: int
    voice_id: str | None = None


def image_params(subjects: Sequence[Subject]) -> tuple[str, ...]:
    """The field each image of the request was given in: subjects[1].images[0], ..."""
    return tuple(
        f"subjects[{number}].images[{index}]"
        for number, subject in enumerate(subjects)
        for index in range(subject.image_count)
    )


def by_subject(subjects: Sequence[Subject], items: Sequence[T]) -> list[tuple[Subject, list[T]]]:
    """Items of the request's images (paths, URLs, keys), split among its subjects."""
    split, start = [], 0
    for subject in subjects:
        split.append((subject, list(items[start : start + subject.image_count])))
        start += subject.image_count
    return split


def check_subjects(
    given: Sequence[Subject] | None, spec: ModelSpec, mode: Mode, image_count: int
) -> tuple[Subject, ...]:
    """The subjects of a request, checked against Vidu's limits and the model's."""
    if given is None:
        return ()
    if mode is not Mode.REFERENCE:
        raise InvalidRequestError(
            f"subjects is a field of {Mode.REFERENCE} only, not of {mode}.", param="subjects"
        )
    if not 1 <= len(given) <= MAX_SUBJECTS:
        raise InvalidRequestError(
            f"subjects: give 1-{MAX_SUBJECTS} subjects; {len(given)} given.", param="subjects"
        )
    seen: set[str] = set()
    for index, subject in enumerate(given):
        where = f"subjects[{index}]"
        if not subject.id or any(char.isspace() or not char.isprintable() for char in subject.id):
            raise InvalidRequestError(
                f"{where}.id must be a non-empty word without spaces: the prompt names the "
                "subject as @id.",
                param=f"{where}.id",
            )
        if subject.id in seen:
            raise InvalidRequestError(
                f"{where}.id {subject.id!r} is the id of an earlier subject; each subject "
                "needs its own.",
                param=f"{where}.id",
            )
        seen.add(subject.id)
        if not 1 <= subject.image_count <= MAX_SUBJECT_IMAGES:
            raise InvalidRequestError(
                f"{where}.images: a subject has 1-{MAX_SUBJECT_IMAGES} images; "
                f"{subject.image_count} given.",
                param=f"{where}.images",
            )
    total = sum(subject.image_count for subject in given)
    most = spec.image_range(mode)[1]
    if total > most:
        raise InvalidRequestError(
            f"subjects: {spec.id} takes at most {most} images in all subjects together; "
            f"{total} given.",
            param="subjects",
        )
    if total != image_count:
        raise ValueError(f"{total} subject images, {image_count} images handed in")
    return tuple(
        Subject(subject.id, subject.image_count, subject.voice_id or None) for subject in given
    )
