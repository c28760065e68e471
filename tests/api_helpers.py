"""What the API tests of every package check the same way."""


def assert_error(response, status, *fields):
    """The uniform error shape, naming exactly ``fields`` when given."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] and body["detail"]
    if fields:
        assert sorted(body["fields"]) == sorted(fields)
    return body
