#!/usr/bin/env python3
"""Print OVH request-signature vectors computed by the official python client.

Runs python-ovh's own code path (``Client.get/post/put/delete`` -> ``call`` ->
``raw_call``): ``ovh.client.ENDPOINTS`` is pointed at the endpoint under test,
``time.time`` is frozen, and the HTTP session is replaced by a recorder that
answers ``GET /auth/time`` with a fixed server time and captures the method,
URL, body and headers of every other request. Nothing leaves the machine.

Requires ``ovh==1.2.0`` (``bash tests/run.sh`` installs it into
``target/interop-venv``). The Rust unit test in ``src/ovh/signing.rs`` hardcodes
this output; ``tests/it/ovh_client.rs`` runs this script and compares every
vector with the Rust signer and body serializer.
"""

import json
import sys

try:
    import ovh
    import ovh.client
except ImportError:
    sys.exit("python package `ovh` is missing\nhint: bash tests/run.sh installs it into target/interop-venv")

if getattr(ovh, "__version__", None) not in (None, "1.2.0"):
    print("warning: expected ovh==1.2.0, found %s" % ovh.__version__, file=sys.stderr)

LOCAL_TIME = 1700000000.75  # what time.time() returns inside python-ovh
SERVER_TIME = 1700000042  # what GET /auth/time answers: delta = 42

APPLICATION_KEY = "7kbG7Bk7S9Nt7ZSV"
APPLICATION_SECRET = "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF"
CONSUMER_KEY = "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1"


class FakeResponse:
    def __init__(self, status_code, payload):
        self.status_code = status_code
        self._payload = payload

    def json(self):
        return self._payload


class Recorder:
    """Stands in for the client's ``requests.Session``."""

    def __init__(self):
        self.captured = []

    def request(self, method, url, headers=None, data=None, timeout=None):
        if url.endswith("/auth/time"):
            return FakeResponse(200, SERVER_TIME)
        self.captured.append({"method": method, "url": url, "headers": dict(headers or {}), "body": data})
        return FakeResponse(200, {})


def client_for(base):
    ovh.client.ENDPOINTS["ovh-eu"] = base
    client = ovh.Client(
        endpoint="ovh-eu",
        application_key=APPLICATION_KEY,
        application_secret=APPLICATION_SECRET,
        consumer_key=CONSUMER_KEY,
    )
    recorder = Recorder()
    client._session = recorder
    return client, recorder


# (name, endpoint base, python call, data passed as body or None)
CASES = [
    ("get_no_query", "https://eu.api.ovh.com/1.0", lambda c: c.get("/me"), None),
    (
        "get_query_kwargs",
        "https://eu.api.ovh.com/1.0",
        lambda c: c.get("/cloud/project/abc123/database/service", category="operational", deep=True, cursor=None),
        None,
    ),
    (
        "get_query_in_path_and_kwargs",
        "https://eu.api.ovh.com/1.0",
        lambda c: c.get("/cloud/project/abc123/database/availability?action=update", target="plan"),
        None,
    ),
    (
        "get_v1_prefix_strips_1_0",
        "https://eu.api.ovh.com/1.0",
        lambda c: c.get("/v1/cloud/project/abc123/database/capabilities"),
        None,
    ),
    (
        "get_v2_prefix_strips_1_0",
        "https://eu.api.ovh.com/1.0",
        lambda c: c.get("/v2/iam/resource"),
        None,
    ),
    (
        "post_json_unicode",
        "https://eu.api.ovh.com/1.0",
        None,  # filled below: uses call() so the body keeps key order and nesting
        {
            "name": "ünïcødé-名前-🚀",
            "roles": ["readWrite@admin", "clusterMonitor@admin"],
            "nested": {"enabled": True, "disabled": False, "nothing": None, "count": 3, "ratio": 1.5},
            "quote": "a \"quoted\" \\ back/slash\ttab\nnewline",
        },
    ),
    (
        "post_kwargs",
        "https://ca.api.ovh.com/1.0",
        lambda c: c.post("/cloud/project/abc123/database/postgresql", description="orders-db", plan="business", nodesNumber=2),
        None,
    ),
    (
        "put_json",
        "https://api.us.ovhcloud.com/1.0",
        None,
        {"description": "orders-db", "deletionProtection": True, "ipRestrictions": [{"ip": "10.0.0.0/8", "description": ""}]},
    ),
    (
        "delete_no_body",
        "https://eu.api.ovh.com/1.0",
        lambda c: c.delete("/cloud/project/abc123/database/mongodb/5f8c1e0e-1111-2222-3333-444455556666"),
        None,
    ),
    (
        "loopback_with_port",
        "http://127.0.0.1:8080/1.0",
        lambda c: c.get("/cloud/project/abc123/database/service", category="operational"),
        None,
    ),
    (
        "loopback_post_empty_object",
        "http://127.0.0.1:8080/1.0",
        None,
        {},
    ),
]

METHOD_AND_PATH_FOR_CALL = {
    "post_json_unicode": ("POST", "/cloud/project/abc123/database/mongodb/5f8c1e0e/user"),
    "put_json": ("PUT", "/cloud/project/abc123/database/postgresql/5f8c1e0e"),
    "loopback_post_empty_object": ("POST", "/auth/logout"),
}


def main():
    ovh.client.time.time = lambda: LOCAL_TIME
    vectors = []
    for name, base, run, data in CASES:
        client, recorder = client_for(base)
        if run is None:
            method, path = METHOD_AND_PATH_FOR_CALL[name]
            client.call(method, path, data)
        else:
            run(client)
        (req,) = recorder.captured
        base_for_path = base[:-4] if base.endswith("/1.0") else base
        url = req["url"]
        headers = req["headers"]
        vectors.append(
            {
                "name": name,
                "endpoint": base,
                "method": req["method"],
                # The path as the Rust client receives it (query string included).
                "path": url[len(base_for_path):] if url.startswith(base_for_path + "/v") else url[len(base):],
                "url": url,
                # The JSON value python serialized (kwargs become a dict in that order).
                "data": data if data is not None or not req["body"] else json.loads(req["body"]),
                "body": req["body"],
                "application_key": APPLICATION_KEY,
                "application_secret": APPLICATION_SECRET,
                "consumer_key": CONSUMER_KEY,
                "timestamp": headers["X-Ovh-Timestamp"],
                "signature": headers["X-Ovh-Signature"],
                "headers": headers,
            }
        )
    json.dump(vectors, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
