import json


def test_staff_creates_and_lists_customer(client, staff):
    resp = client.post("/api/customers/", headers=staff.headers, body=json.dumps({"name": "Acme"}))
    assert resp.status_code == 201, resp.body
    body = json.loads(resp.body)
    assert body["name"] == "Acme"
    resp = client.get("/api/customers/", headers=staff.headers)
    assert resp.status_code == 200
    assert json.loads(resp.body)[0]["uuid"] == body["uuid"]
    assert resp.headers["X-Result-Count"] == "1"
