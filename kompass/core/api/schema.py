"""OpenAPI post-processing: document the error answers every operation can give."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: `detail` for general errors, or one list of messages per invalid field.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

ERRORS = {
    "400": "Invalid input; nothing was changed.",
    "401": "Not authenticated.",
    "403": "Authenticated, but not allowed.",
    "404": "No such object, or outside your reach.",
    "409": "The object is still in use and cannot be deleted.",
    "429": "Too many requests from this token or user; try again later.",
}


def add_error_responses(result, generator, request, public):
    """Add the standard error responses to each operation (drf-spectacular documents only successes)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["400", "401", "403", "429"]
            if "{" in path:
                codes.append("404")
            if method == "delete":
                codes.append("409")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": ERRORS[code], "content": ref})
    return result
