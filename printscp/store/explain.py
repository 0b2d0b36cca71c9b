"""What each status means for the person reading a validation report (PS3.4 Annex H, PS3.7 C)."""

from __future__ import annotations

from printscp.status import Status

EXPLANATIONS = {
    Status.ATTRIBUTE_LIST_ERROR: "Warning: the printer ignored attributes it does not support; the rest was applied.",
    Status.ATTRIBUTE_VALUE_OUT_OF_RANGE: "Warning: a value was outside what the printer supports and was adjusted.",
    Status.NO_SUCH_ATTRIBUTE: "The request carried an attribute this SOP Class does not have (PS3.4 Annex H tables).",
    Status.INVALID_ATTRIBUTE_VALUE: "A value is not allowed by the standard or by this printer's profile; "
                                    "the Error Comment names the attribute and what is accepted.",
    Status.PROCESSING_FAILURE: "The printer could not carry out the request (state, decoding or printer failure).",
    Status.DUPLICATE_SOP_INSTANCE: "The SCU proposed a SOP Instance UID that already exists on this association.",
    Status.NO_SUCH_SOP_INSTANCE: "The request names an instance the printer does not have (deleted, or never created).",
    Status.NO_SUCH_ARGUMENT: "An argument the operation does not define was sent.",
    Status.INVALID_ARGUMENT_VALUE: "An argument value (e.g. Action Type ID) is not valid here.",
    Status.INVALID_SOP_INSTANCE: "The SOP Instance UID breaks the UID rules of PS3.5 9.1.",
    Status.NO_SUCH_SOP_CLASS: "This printer does not offer that SOP Class (not in its profile or not negotiated).",
    Status.CLASS_INSTANCE_CONFLICT: "The instance exists but belongs to another SOP Class.",
    Status.MISSING_ATTRIBUTE: "A Type 1 attribute required by the standard or the profile was not sent.",
    Status.MISSING_ATTRIBUTE_VALUE: "A required attribute was sent empty.",
    Status.SOP_CLASS_NOT_SUPPORTED: "The SOP Class is not supported on this presentation context.",
    Status.NO_SUCH_ACTION_TYPE: "N-ACTION with an Action Type ID the SOP Class does not define (Print is 1).",
    Status.NOT_AUTHORIZED: "The printer refused the request for this peer.",
    Status.UNRECOGNIZED_OPERATION: "The operation is not defined for this SOP Class (e.g. N-SET on the Printer).",
    Status.RESOURCE_LIMITATION: "The printer ran out of a resource (memory, spool space).",
    Status.MEMORY_ALLOCATION_NOT_SUPPORTED: "Warning: Memory Allocation was ignored; the printer manages memory itself.",
    Status.FILM_SESSION_PRINTING_NOT_SUPPORTED: "Warning: the printer does not print at Film Session level; "
                                                "print each Film Box instead.",
    Status.FILM_SESSION_EMPTY_PAGE: "Warning: the Film Session holds an empty page; nothing was printed for it.",
    Status.FILM_BOX_EMPTY_PAGE: "Warning: the Film Box has no image in any image box; nothing was printed.",
    Status.IMAGE_DEMAGNIFIED: "Warning: the image was larger than its box and was shrunk to fit.",
    Status.DENSITY_OUT_OF_RANGE: "Warning: a requested density is outside the printer's range and was clipped.",
    Status.IMAGE_CROPPED: "Warning: the image was larger than its box and was cropped to fit.",
    Status.IMAGE_DECIMATED: "Warning: the image was decimated (pixels dropped) to fit its box.",
    Status.FILM_SESSION_NO_FILM_BOX: "Film Session N-ACTION with no Film Box created: there is nothing to print.",
    Status.PRINT_QUEUE_FULL_FILM_SESSION: "The print queue is full (Film Session): try again when jobs have finished.",
    Status.PRINT_QUEUE_FULL_FILM_BOX: "The print queue is full (Film Box): try again when jobs have finished.",
    Status.IMAGE_TOO_LARGE: "The image is larger than its image box and the printer neither crops nor shrinks it.",
    Status.INSUFFICIENT_MEMORY: "The printer has not enough memory for this Film Session.",
    Status.COMBINED_IMAGE_TOO_LARGE: "The images of the film together are too large for the printer.",
    Status.FILM_BOX_NOT_PRINTED: "A Film Box was deleted or the session ended before it was printed.",
}


def explain(status: str | int | None) -> str:
    """One sentence for a status given as 0xNNNN text or a number; empty for success."""
    try:
        code = int(status, 16) if isinstance(status, str) else int(status)
    except (TypeError, ValueError):
        return ""
    if code == 0:
        return ""
    try:
        return EXPLANATIONS.get(Status(code), "")
    except ValueError:
        return f"0x{code:04X} is not a status printscp sends; see PS3.7 Annex C."
