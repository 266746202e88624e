#!/usr/bin/env python3
"""The official python client (PyPI ``ovh==1.2.0``) drives RunAbove's Managed Stacks in the
sandbox through the five calls of RunAbove's guide "How to create a MySQL Managed Stack using
the API", exactly as the guide writes them, and checks every answer against what the guide
shows.

The guide's calls (``auth_curl -X ... ${MANAGEDSTACKS_LAB}/...`` with
``MANAGEDSTACKS_LAB=https://api.runabove.com/1.0``):
  POST   /stackMysql                  -> {"msg": "cluster created"}
  GET    /stackMysql                  -> {"products": [{"id": <clusterId>}]}
  GET    /stackMysql/<clusterId>      -> {"active", "nodes": [{"addr", "product_id"}], "product_id"}
  GET    /stackMysql/<clusterId>/status -> an object keyed by probe name
  DELETE /stackMysql/<clusterId>      -> {"msg": "cluster deleted"}

Only ``ovh.client.ENDPOINTS`` is patched: a ``runabove`` entry (python-ovh once shipped
``runabove-ca`` = https://api.runabove.com/1.0) pointing at the sandbox's RunAbove URL, the
``runabove_endpoint=`` line of ``reconcile sandbox serve``. Signing, the time delta and the
JSON handling are the client's own.

Usage: python_runabove.py RUNABOVE_ENDPOINT, e.g. http://127.0.0.1:8080/runabove/1.0
Prints one line per call; exits 1 naming the call on the first failure.
"""

import os
import sys
import time

try:
    import ovh
    import ovh.client
    import ovh.exceptions as exc
except ImportError:
    sys.exit("error: python package `ovh` is missing\nhint: pip install -r tests/interop/requirements.txt")

APPLICATION_KEY = "sandbox-application-key"
APPLICATION_SECRET = "sandbox-application-secret"
CONSUMER_KEY = "sandbox-consumer-key"
DEADLINE = float(os.environ.get("SANDBOX_DEADLINE", "30"))


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python_runabove.py RUNABOVE_ENDPOINT")
    ovh.client.ENDPOINTS["runabove"] = sys.argv[1]
    client = ovh.Client(
        endpoint="runabove",
        application_key=APPLICATION_KEY,
        application_secret=APPLICATION_SECRET,
        consumer_key=CONSUMER_KEY,
    )
    call = "start"
    try:
        call = "POST /stackMysql"
        created = client.post("/stackMysql")
        check(created == {"msg": "cluster created"}, "answered %r" % (created,))
        print("ok: %s -> %r" % (call, created))

        call = "GET /stackMysql"
        listed = client.get("/stackMysql")
        check(set(listed) == {"products"}, "answered %r" % (listed,))
        ids = [product["id"] for product in listed["products"]]
        check(len(ids) == 1 and isinstance(ids[0], int), "products %r" % (listed["products"],))
        check(all(set(p) == {"id"} for p in listed["products"]), "products %r" % (listed["products"],))
        cluster_id = ids[0]
        print("ok: %s -> %r" % (call, listed))

        call = "GET /stackMysql/%s" % cluster_id
        path = "/stackMysql/%s" % cluster_id
        started = time.monotonic()
        while True:
            cluster = client.get(path)
            check(set(cluster) == {"active", "nodes", "product_id"}, "answered %r" % (cluster,))
            check(isinstance(cluster["active"], bool), "active %r" % (cluster["active"],))
            check(isinstance(cluster["product_id"], int), "product_id %r" % (cluster["product_id"],))
            check(len(cluster["nodes"]) >= 1, "no nodes in %r" % (cluster,))
            for node in cluster["nodes"]:
                check(set(node) == {"addr", "product_id"}, "node %r" % (node,))
                check(isinstance(node["addr"], str) and node["addr"].count(".") == 3, "addr %r" % (node,))
                check(isinstance(node["product_id"], int), "node product_id %r" % (node,))
            if cluster["active"]:
                break
            check(time.monotonic() - started < DEADLINE, "not active after %ss" % DEADLINE)
            time.sleep(0.05)
        print("ok: %s -> %r" % (call, cluster))

        call = "GET /stackMysql/%s/status" % cluster_id
        status = client.get(path + "/status")
        check(isinstance(status, dict) and status, "answered %r" % (status,))
        check(all(isinstance(name, str) for name in status), "keys %r" % (list(status),))
        print("ok: %s -> %r" % (call, status))

        call = "DELETE /stackMysql/%s" % cluster_id
        deleted = client.delete(path)
        check(deleted == {"msg": "cluster deleted"}, "answered %r" % (deleted,))
        print("ok: %s -> %r" % (call, deleted))

        call = "GET /stackMysql/%s after the delete" % cluster_id
        try:
            client.get(path)
            raise Failure("the deleted cluster still answers")
        except exc.ResourceNotFoundError:
            pass
        check(client.get("/stackMysql") == {"products": []}, "still listed")
        print("ok: %s -> ResourceNotFoundError" % call)
    except (Failure, exc.APIError) as e:
        print("FAIL %s: %s: %s" % (call, type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
