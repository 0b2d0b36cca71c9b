"""Every DIMSE status printscp can return, in one place (PS3.7 Annex C, PS3.4 Annex H)."""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    SUCCESS = 0x0000

    # General warnings (PS3.7 C.4)
    ATTRIBUTE_LIST_ERROR = 0x0107
    ATTRIBUTE_VALUE_OUT_OF_RANGE = 0x0116

    # General failures (PS3.7 C.5)
    NO_SUCH_ATTRIBUTE = 0x0105
    INVALID_ATTRIBUTE_VALUE = 0x0106
    PROCESSING_FAILURE = 0x0110
    DUPLICATE_SOP_INSTANCE = 0x0111
    NO_SUCH_SOP_INSTANCE = 0x0112
    NO_SUCH_ARGUMENT = 0x0114
    INVALID_ARGUMENT_VALUE = 0x0115
    INVALID_SOP_INSTANCE = 0x0117
    NO_SUCH_SOP_CLASS = 0x0118
    CLASS_INSTANCE_CONFLICT = 0x0119
    MISSING_ATTRIBUTE = 0x0120
    MISSING_ATTRIBUTE_VALUE = 0x0121
    SOP_CLASS_NOT_SUPPORTED = 0x0122
    NO_SUCH_ACTION_TYPE = 0x0123
    NOT_AUTHORIZED = 0x0124
    DUPLICATE_INVOCATION = 0x0210
    UNRECOGNIZED_OPERATION = 0x0211
    MISTYPED_ARGUMENT = 0x0212
    RESOURCE_LIMITATION = 0x0213

    # Print Management warnings (PS3.4 Annex H)
    MEMORY_ALLOCATION_NOT_SUPPORTED = 0xB600
    FILM_SESSION_PRINTING_NOT_SUPPORTED = 0xB601
    FILM_SESSION_EMPTY_PAGE = 0xB602
    FILM_BOX_EMPTY_PAGE = 0xB603
    IMAGE_DEMAGNIFIED = 0xB604
    DENSITY_OUT_OF_RANGE = 0xB605
    IMAGE_CROPPED = 0xB609
    IMAGE_DECIMATED = 0xB60A

    # Print Management failures (PS3.4 Annex H)
    FILM_SESSION_NO_FILM_BOX = 0xC600
    PRINT_QUEUE_FULL_FILM_SESSION = 0xC601
    PRINT_QUEUE_FULL_FILM_BOX = 0xC602
    IMAGE_TOO_LARGE = 0xC603
    INSUFFICIENT_MEMORY = 0xC605
    COMBINED_IMAGE_TOO_LARGE = 0xC613
    FILM_BOX_NOT_PRINTED = 0xC616

    @property
    def is_success(self) -> bool:
        return self is Status.SUCCESS

    @property
    def is_warning(self) -> bool:
        return self in _WARNINGS

    @property
    def is_failure(self) -> bool:
        return not (self.is_success or self.is_warning)

    @property
    def category(self) -> str:
        return category_of(self.value)

    def __str__(self) -> str:
        return f"0x{self.value:04X} {self.name}"


def category_of(code: int) -> str:
    """PS3.7 Annex C for any status code, ours or a peer's: 0x0000 success; 0x0001, 0x0107,
    0x0116 and 0xBxxx warnings; everything else a failure."""
    if code == 0:
        return "success"
    if code in (0x0001, 0x0107, 0x0116) or (code & 0xF000) == 0xB000:
        return "warning"
    return "failure"


_WARNINGS = frozenset(s for s in Status if category_of(s.value) == "warning")


ERROR_COMMENT_MAX = 64  # Error Comment (0000,0902) is LO


def error_comment(text: str) -> str:
    """Text fit for an Error Comment: LO has no backslash (it separates values: the peer would
    see only the text before it), so CUSTOM\\2 goes out as CUSTOM/2; cut to 64 characters."""
    comment = text.replace("\\", "/")
    return comment if len(comment) <= ERROR_COMMENT_MAX else comment[:ERROR_COMMENT_MAX - 3] + "..."


class PrintError(Exception):
    """A refusal the peer must see: the status to answer and a comment a person can act on.

    Error Comment is LO, so the wire copy is cut to 64 characters; the full text is logged
    and written to job.json.
    """

    def __init__(self, status: Status, comment: str):
        super().__init__(comment)
        self.status = status
        self.comment = comment

    def __str__(self) -> str:
        return f"{self.status}: {self.comment}"
