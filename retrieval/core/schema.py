"""A post-processing hook of the OpenAPI schema (``SPECTACULAR_SETTINGS``): descriptions are
for API users, so a description taken from a docstring written for developers (one that
names code, ``like.this``) is left out rather than shown in Swagger UI."""


def _public(node) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("description"), str) and "``" in node["description"]:
            del node["description"]
        for value in node.values():
            _public(value)
    elif isinstance(node, list):
        for value in node:
            _public(value)


def drop_developer_notes(result, generator, request, public):
    _public(result)
    return result
